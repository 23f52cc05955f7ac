/**
 * Sorting float32 data ascending with NaN last (core's `compareFloats` order): an LSD radix sort
 * on order-preserving integer keys (about 4× faster here than `Float32Array.prototype.sort` on
 * 8M elements), and a merge-path merge so several workers can share one merge of two runs.
 */

const SIGN = 0x80000000;
const RADIX_BITS = 11;
const BUCKETS = 1 << RADIX_BITS;
const MASK = BUCKETS - 1;

/**
 * Sorts `x` into `o` (same length; may be the same array). Keys flip negatives entirely and set
 * the sign bit of positives, so unsigned order is float order; every NaN (either sign, any
 * payload) becomes the largest key, so NaNs sort last and come back as one canonical NaN.
 */
export function radixSort(x: Float32Array, o: Float32Array): void {
  const n = x.length;
  if (n === 0) return;
  const keys = new Uint32Array(n);
  const tmp = new Uint32Array(n);
  const bits = new Uint32Array(x.buffer, x.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const v = bits[i]!;
    keys[i] = (v & 0x7fffffff) > 0x7f800000 ? 0xffffffff : v & SIGN ? ~v >>> 0 : (v | SIGN) >>> 0;
  }
  const counts = new Uint32Array(BUCKETS);
  let src = keys;
  let dst = tmp;
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(src[i]! >>> shift) & MASK]!++;
    // A pass where every key shares this digit would move nothing: skip it.
    if (counts[(src[0]! >>> shift) & MASK] === n) continue;
    let total = 0;
    for (let b = 0; b < BUCKETS; b++) {
      const c = counts[b]!;
      counts[b] = total;
      total += c;
    }
    for (let i = 0; i < n; i++) {
      const k = src[i]!;
      dst[counts[(k >>> shift) & MASK]!++] = k;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  const out = new Uint32Array(o.buffer, o.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const k = src[i]!;
    out[i] = k & SIGN ? k & 0x7fffffff : ~k >>> 0;
  }
}

/** a ≤ b in ascending order with NaN last (NaN ≤ NaN) and -0 before +0, as radixSort orders them. */
function le(a: number, b: number): boolean {
  return a < b || b !== b || (a === b && (a !== 0 || 1 / a <= 1 / b));
}

/**
 * Writes merged elements [d0, d1) of runs A = src[aStart, aEnd) and B = src[aEnd, bEnd) into
 * `o` (o[0] receives merged element d0). Ties take A first, so the merge is stable; the start
 * point is found by binary search along the merge path's diagonal d0.
 */
export function mergeRange(src: Float32Array, aStart: number, aEnd: number, bEnd: number, d0: number, d1: number, o: Float32Array): void {
  const lenA = aEnd - aStart;
  const lenB = bEnd - aEnd;
  let lo = Math.max(0, d0 - lenB);
  let hi = Math.min(d0, lenA);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // A[mid] precedes B[d0 - mid - 1]: more than `mid` of the first d0 come from A.
    if (le(src[aStart + mid]!, src[aEnd + d0 - mid - 1]!)) lo = mid + 1;
    else hi = mid;
  }
  let i = aStart + lo;
  let j = aEnd + (d0 - lo);
  const n = d1 - d0;
  for (let k = 0; k < n; k++) {
    if (j >= bEnd || (i < aEnd && le(src[i]!, src[j]!))) o[k] = src[i++]!;
    else o[k] = src[j++]!;
  }
}
