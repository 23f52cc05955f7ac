/**
 * Tree reduction: a capped number of workgroups walk the input with a grid stride (each thread
 * folding many elements serially, so few workgroup barriers are paid per element), then fold
 * their 256 values in workgroup memory. The driver folds the per-workgroup results the same way. min/max are
 * common.ts's fmin/fmax: NaN when any input is NaN, and -0 below +0, in any order of the inputs.
 */
import type { ReduceKernel } from '@tandem/core/backend';
import { COMMON, ENTRY_ARGS, WG } from './common.ts';

/** Workgroups of one reduction dispatch at most: its partials then fit one workgroup's second pass. */
export const REDUCE_GROUPS = WG;

const COMBINE: Record<ReduceKernel, string> = {
  sum: 'return a + b;',
  mean: 'return a + b;',
  min: 'return fmin(a, b);',
  max: 'return fmax(a, b);',
};

/** Params: n, din, dout, groups (in the dispatch), identity (f32). Bindings: x, out, params. Writes out[dout + group]. */
export function reduceShader(op: ReduceKernel): string {
  return /* wgsl */ `
${COMMON}
struct Params { n: u32, din: u32, dout: u32, groups: u32, identity: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> s: array<f32, ${WG}>;

fn combine(a: f32, b: f32) -> f32 { ${COMBINE[op]} }

@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  let g = group_index(wid, nwg);
  if (g >= p.groups) { return; }
  var acc = p.identity;
  for (var i = g * ${WG}u + li; i < p.n; i += p.groups * ${WG}u) { acc = combine(acc, x[p.din + i]); }
  s[li] = acc;
  workgroupBarrier();
  for (var stride = ${WG / 2}u; stride > 0u; stride = stride >> 1u) {
    if (li < stride) { s[li] = combine(s[li], s[li + stride]); }
    workgroupBarrier();
  }
  if (li == 0u) { out[p.dout + g] = s[0]; }
}
`;
}
