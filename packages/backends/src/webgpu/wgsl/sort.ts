/**
 * Least-significant-digit radix sort of float32 keys, 4 bits per pass (8 passes), stable.
 *
 * Floats become u32 keys whose unsigned order is the float order with NaN last: negatives have
 * every bit flipped, non-negatives only the sign bit, and every NaN (whatever its sign or payload)
 * becomes 0xffffffff. -0 sorts before +0, as a typed array's sort does.
 *
 * Per pass, each workgroup owns a block of {@link SORT_BLOCK} keys, {@link KEYS_PER_THREAD}
 * contiguous keys per thread (so thread order is key order, which keeps it stable):
 * - `count` writes the block's digit counts to `hist[digit * blocks + block]`;
 * - the driver scans `hist` (exclusive), giving each (digit, block) its first output slot;
 * - `scatter` recounts, sums each digit's counts over the block's earlier threads (a thread's
 *   keys of digit d go after theirs) and writes every key to its slot.
 *
 * On lavapipe the two key loops dominate the cost; staging the block's keys through workgroup
 * memory for coalesced reads made them slower there, so keys are read straight from storage.
 */
import { COMMON, ENTRY_ARGS, WG, strideLoop } from './common.ts';

/** Threads per sort workgroup: 16 digits × this many u32 counters must fit workgroup memory. */
const SWG = 128;
export const KEYS_PER_THREAD = 32;
export const SORT_BLOCK = SWG * KEYS_PER_THREAD;
export const RADIX_BITS = 4;
const DIGITS = 1 << RADIX_BITS;

const KEYS = /* wgsl */ `
fn to_key(v: f32) -> u32 {
  if (is_nan(v)) { return 0xffffffffu; }
  let b = bitcast<u32>(v);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}
fn from_key(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}
`;

/** Params: n, d (delta of x's window), groups. Bindings: x, keys, params. */
export function sortEncodeShader(): string {
  return /* wgsl */ `
${COMMON}
${KEYS}
struct Params { n: u32, d: u32, groups: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> keys: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  ${strideLoop('p.n', 'p.groups')} { keys[i] = to_key(x[p.d + i]); }
}
`;
}

/** Params: n, d (delta of out's window), groups. Bindings: keys, out, params. */
export function sortDecodeShader(): string {
  return /* wgsl */ `
${COMMON}
${KEYS}
struct Params { n: u32, d: u32, groups: u32 }
@group(0) @binding(0) var<storage, read> keys: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  ${strideLoop('p.n', 'p.groups')} { out[p.d + i] = from_key(keys[i]); }
}
`;
}

const COUNT_KEYS = /* wgsl */ `
  var c: array<u32, ${DIGITS}>;
  let first = g * ${SORT_BLOCK}u + li * ${KEYS_PER_THREAD}u;
  for (var k = 0u; k < ${KEYS_PER_THREAD}u; k++) {
    let i = first + k;
    if (i < p.n) {
      let dg = (src[i] >> p.shift) & ${DIGITS - 1}u;
      c[dg] = c[dg] + 1u;
    }
  }
`;

/** Params: n, shift, blocks. Bindings: src keys, hist, params. */
export function sortCountShader(): string {
  return /* wgsl */ `
${COMMON}
struct Params { n: u32, shift: u32, blocks: u32 }
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> hist: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> wc: array<atomic<u32>, ${DIGITS}>;

@compute @workgroup_size(${SWG})
fn main(${ENTRY_ARGS}) {
  let g = group_index(wid, nwg);
  if (g >= p.blocks) { return; }
  if (li < ${DIGITS}u) { atomicStore(&wc[li], 0u); }
  workgroupBarrier();
${COUNT_KEYS}
  for (var dg = 0u; dg < ${DIGITS}u; dg++) {
    if (c[dg] > 0u) { atomicAdd(&wc[dg], c[dg]); }
  }
  workgroupBarrier();
  if (li < ${DIGITS}u) { hist[li * p.blocks + g] = atomicLoad(&wc[li]); }
}
`;
}

/**
 * Params: n, shift, blocks. Bindings: src keys, dst keys, hist (exclusive-scanned), params.
 *
 * A key's slot is its digit's offset for this block (from `hist`) plus the keys of that digit in
 * the block's earlier threads: a prefix sum down each digit's column of per-thread counts. The 16
 * columns of 128 are scanned at once, each by 8 threads owning 16 entries, with 2 barriers.
 */
export function sortScatterShader(): string {
  const SEG = SWG / DIGITS; // threads per column
  const LEN = SWG / SEG; // entries per thread
  return /* wgsl */ `
${COMMON}
struct Params { n: u32, shift: u32, blocks: u32 }
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<storage, read> hist: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;
// col[digit * threads + thread]: counts, then their prefix sums down each digit's column, then output slots.
var<workgroup> col: array<u32, ${DIGITS * SWG}>;
var<workgroup> seg: array<u32, ${SWG}>;

@compute @workgroup_size(${SWG})
fn main(${ENTRY_ARGS}) {
  let g = group_index(wid, nwg);
  if (g >= p.blocks) { return; }
${COUNT_KEYS}
  for (var dg = 0u; dg < ${DIGITS}u; dg++) { col[dg * ${SWG}u + li] = c[dg]; }
  workgroupBarrier();
  // Thread li scans entries [li * ${LEN}, +${LEN}) (digit li / ${SEG}, part li % ${SEG} of its column).
  var run = 0u;
  for (var k = 0u; k < ${LEN}u; k++) {
    let v = col[li * ${LEN}u + k];
    col[li * ${LEN}u + k] = run;
    run = run + v;
  }
  seg[li] = run;
  workgroupBarrier();
  var before = 0u;
  for (var s = li - li % ${SEG}u; s < li; s++) { before = before + seg[s]; }
  let base = hist[(li / ${SEG}u) * p.blocks + g] + before;
  for (var k = 0u; k < ${LEN}u; k++) { col[li * ${LEN}u + k] = col[li * ${LEN}u + k] + base; }
  workgroupBarrier();
  // Each thread now owns col[d * threads + li], its next slot for digit d.
  for (var k = 0u; k < ${KEYS_PER_THREAD}u; k++) {
    let i = first + k;
    if (i < p.n) {
      let key = src[i];
      let at = ((key >> p.shift) & ${DIGITS - 1}u) * ${SWG}u + li;
      let slot = col[at];
      dst[slot] = key;
      col[at] = slot + 1u;
    }
  }
}
`;
}
