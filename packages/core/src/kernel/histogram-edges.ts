/**
 * Bin edges in float32 that reproduce `histogramBin` (a float64 formula) exactly on a float32 GPU:
 * edge b is the smallest float32 whose bin is at least b (edge 0 the smallest ≥ lo, edge `bins`
 * the smallest ≥ hi). The bin is monotone in the value, so each edge is a binary search over
 * float32s in order (as integers: stepping one float at a time can take billions of steps near
 * zero, where many floats share a bin).
 */
import { histogramBin } from './builtins.ts';

const f = new Float32Array(1);
const u = new Uint32Array(f.buffer);

/** A u32 whose unsigned order is the order of the non-NaN float32 `v`. */
function order(v: number): number {
  f[0] = v;
  const b = u[0]!;
  return b >= 0x80000000 ? 0xffffffff - b : b + 0x80000000;
}

function fromOrder(k: number): number {
  u[0] = k >= 0x80000000 ? k - 0x80000000 : 0xffffffff - k;
  return f[0]!;
}

/** Whether `v` falls in bin `b` or above (past `hi` counts as above every bin). */
function reaches(v: number, b: number, bins: number, lo: number, hi: number): boolean {
  return v >= hi || histogramBin(v, bins, lo, hi) >= b;
}

/** The smallest float32 whose order key is in [`from`, `to`] and {@link reaches} `b` (`to`'s does). */
function smallest(from: number, to: number, b: number, bins: number, lo: number, hi: number): number {
  while (from < to) {
    const mid = from + Math.floor((to - from) / 2);
    if (reaches(fromOrder(mid), b, bins, lo, hi)) to = mid;
    else from = mid + 1;
  }
  return fromOrder(from);
}

/** The smallest float32 ≥ `x`. */
function ceilF32(x: number): number {
  const r = Math.fround(x);
  if (r >= x) return r;
  f[0] = r;
  u[0] = r >= 0 ? u[0]! + (r === 0 ? 0 : 1) : u[0]! - 1;
  return r === 0 ? 2 ** -149 : f[0]!;
}

/** `bins + 1` float32 edges; see the module comment. */
export function histogramEdges(bins: number, lo: number, hi: number): Float32Array {
  const edges = new Float32Array(bins + 1);
  const first = ceilF32(lo);
  const last = ceilF32(hi);
  edges[0] = first;
  edges[bins] = last;
  const firstKey = order(first);
  const lastKey = order(last);
  for (let b = 1; b < bins; b++) {
    // The float32 nearest the exact edge is within a few floats of it: search there first.
    const guess = order(Math.min(last, Math.max(first, Math.fround(lo + ((hi - lo) * b) / bins))));
    const below = Math.max(firstKey, guess - 16);
    const above = Math.min(lastKey, guess + 16);
    const bracketed = reaches(fromOrder(above), b, bins, lo, hi) && (below === firstKey || !reaches(fromOrder(below), b, bins, lo, hi));
    edges[b] = bracketed ? smallest(below, above, b, bins, lo, hi) : smallest(firstKey, lastKey, b, bins, lo, hi);
  }
  return edges;
}
