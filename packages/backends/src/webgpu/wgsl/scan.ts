/**
 * Parallel prefix sum in three kernels, the classic block scan: `scan` scans blocks of
 * {@link SCAN_BLOCK} elements (4 per thread serially, then a Hillis–Steele scan of the 256 thread
 * totals in workgroup memory) and writes each block's total; the driver scans those totals the same
 * way, recursively; `add` then adds the scanned total of the blocks before each block, and an
 * optional carry (the last value of the previous chunk when the input is processed in pieces);
 * `carry` stores that last value for the next chunk.
 *
 * Instantiated for f32 (cumsum, inclusive) and u32 (the radix sort's digit offsets, exclusive).
 */
import { COMMON, ENTRY_ARGS, WG } from './common.ts';

const PER = 16;
/** Elements one workgroup scans. */
export const SCAN_BLOCK = WG * PER;

export type ScanType = 'f32' | 'u32';

/** Params: n, d (window delta), blocks, exclusive (0/1). Bindings: data (in place), sums, params. */
export function scanShader(t: ScanType): string {
  return /* wgsl */ `
${COMMON}
struct Params { n: u32, d: u32, blocks: u32, exclusive: u32 }
@group(0) @binding(0) var<storage, read_write> data: array<${t}>;
@group(0) @binding(1) var<storage, read_write> sums: array<${t}>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> s: array<${t}, ${WG}>;

@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  let g = group_index(wid, nwg);
  if (g >= p.blocks) { return; }
  let base = g * ${SCAN_BLOCK}u + li * ${PER}u;
  var v: array<${t}, ${PER}>;
  var run = ${t}();
  for (var k = 0u; k < ${PER}u; k++) {
    let i = base + k;
    var x = ${t}();
    if (i < p.n) { x = data[p.d + i]; }
    if (p.exclusive == 1u) { v[k] = run; run = run + x; } else { run = run + x; v[k] = run; }
  }
  s[li] = run;
  workgroupBarrier();
  for (var off = 1u; off < ${WG}u; off = off << 1u) {
    var t = ${t}();
    if (li >= off) { t = s[li - off]; }
    workgroupBarrier();
    s[li] = s[li] + t;
    workgroupBarrier();
  }
  var prefix = ${t}();
  if (li > 0u) { prefix = s[li - 1u]; }
  for (var k = 0u; k < ${PER}u; k++) {
    let i = base + k;
    if (i < p.n) { data[p.d + i] = prefix + v[k]; }
  }
  if (li == ${WG - 1}u) { sums[g] = s[${WG - 1}u]; }
}
`;
}

/** Params: n, d, blocks, use_carry (0/1). Bindings: data, sums (inclusive-scanned block totals), carry, params. */
export function scanAddShader(t: ScanType): string {
  return /* wgsl */ `
${COMMON}
struct Params { n: u32, d: u32, blocks: u32, use_carry: u32 }
@group(0) @binding(0) var<storage, read_write> data: array<${t}>;
@group(0) @binding(1) var<storage, read> sums: array<${t}>;
@group(0) @binding(2) var<storage, read> carry: array<${t}>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  let g = group_index(wid, nwg);
  if (g >= p.blocks) { return; }
  var add = ${t}();
  if (g > 0u) { add = sums[g - 1u]; }
  if (p.use_carry == 1u) { add = add + carry[0]; }
  for (var k = 0u; k < ${PER}u; k++) {
    let i = g * ${SCAN_BLOCK}u + k * ${WG}u + li;
    if (i < p.n) { data[p.d + i] = data[p.d + i] + add; }
  }
}
`;
}

/** Params: last (index of the chunk's last element, delta included). Bindings: data, carry, params. */
export function scanCarryShader(t: ScanType): string {
  return /* wgsl */ `
struct Params { last: u32 }
@group(0) @binding(0) var<storage, read> data: array<${t}>;
@group(0) @binding(1) var<storage, read_write> carry: array<${t}>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(1)
fn main() { carry[0] = data[p.last]; }
`;
}
