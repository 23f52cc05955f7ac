/**
 * Elementwise kernels: unary ops, binary ops on a tensor or a scalar second operand, and saxpy.
 * Grid-stride loops: neighbouring threads touch neighbouring elements (coalesced on a GPU, one
 * SIMD row on a CPU rasteriser).
 *
 * Domain edges are spelled out rather than left to the builtins: WGSL leaves exp/log/sqrt outside
 * their domain and min/max on NaN to the implementation, and tanh via sinh/cosh overflows to NaN.
 * relu(-0) is +0 and minimum/maximum order ±0 (-0 < +0), as the cpu backend's JavaScript does.
 */
import type { BinaryKernel, UnaryKernel } from '@tandem/core/backend';
import { DENORMAL_SCALE, LN_DENORMAL_SCALE, MIN_NORMAL, TANH_IDENTITY_BELOW, TANH_SERIES_BELOW, lit, tanhSeries } from '../../float32-math.ts';
import { COMMON, ENTRY_ARGS, WG, strideLoop } from './common.ts';

const MATH = /* wgsl */ `
fn safe_exp(v: f32) -> f32 {
  if (is_nan(v)) { return v; }
  if (v > 88.72284) { return inf_f32(); }
  if (v < -103.97209) { return 0.0; }
  return exp(v);
}
fn safe_log(v: f32) -> f32 {
  if (is_nan(v) || v < 0.0) { return nan_f32(); }
  if (v == 0.0) { return -inf_f32(); }
  if (is_inf(v)) { return v; }
  // A denormal: scaled into the normal range, where log() is accurate (a GPU flushing it to 0 gave -Inf above).
  if (v < ${lit(MIN_NORMAL)}) { return log(v * ${lit(DENORMAL_SCALE)}) - ${lit(LN_DENORMAL_SCALE)}; }
  return log(v);
}
fn safe_sqrt(v: f32) -> f32 {
  if (is_nan(v) || v < 0.0) { return nan_f32(); }
  if (v == 0.0 || is_inf(v)) { return v; }
  return sqrt(v);
}
fn safe_tanh(v: f32) -> f32 {
  if (is_nan(v)) { return v; }
  let a = abs(v);
  if (a < ${lit(TANH_IDENTITY_BELOW)}) { return v; }
  if (a < ${lit(TANH_SERIES_BELOW)}) { let s = v * v; return v + v * s * ${tanhSeries('s')}; }
  let t = safe_exp(-2.0 * a);
  let r = (1.0 - t) / (1.0 + t);
  return select(r, -r, v < 0.0);
}
`;

const UNARY: Record<UnaryKernel, string> = {
  neg: '-v',
  abs: 'abs(v)',
  exp: 'safe_exp(v)',
  log: 'safe_log(v)',
  sqrt: 'safe_sqrt(v)',
  relu: 'select(select(v, 0.0, v <= 0.0), v, is_nan(v))',
  sigmoid: 'select(1.0 / (1.0 + safe_exp(-v)), v, is_nan(v))',
  tanh: 'safe_tanh(v)',
};

const BINARY: Record<BinaryKernel | 'saxpy', string> = {
  add: 'v + w',
  sub: 'v - w',
  mul: 'v * w',
  div: 'v / w',
  maximum: 'fmax(v, w)',
  minimum: 'fmin(v, w)',
  saxpy: 'p.a * v + w',
};

/** How the second operand arrives: none (unary), a tensor, or the scalar `p.a`. */
export type Operand = 'none' | 'tensor' | 'scalar';

/**
 * Params: n (elements this dispatch), dx, dy, dout (window deltas), groups (dispatched),
 * a (saxpy factor), b (scalar operand).
 * Bindings: x, [y], out, params.
 */
export function elementwiseShader(op: string, operand: Operand): string {
  const expr = operand === 'none' ? UNARY[op as UnaryKernel] : BINARY[op as BinaryKernel | 'saxpy'];
  if (!expr) throw new Error(`internal: no elementwise op '${op}'`);
  const w = operand === 'tensor' ? 'y[p.dy + i]' : operand === 'scalar' ? 'p.b' : '0.0';
  const yBinding = operand === 'tensor' ? '@group(0) @binding(1) var<storage, read> y: array<f32>;' : '';
  const outAt = operand === 'tensor' ? 2 : 1;
  return /* wgsl */ `
${COMMON}
${MATH}
struct Params { n: u32, dx: u32, dy: u32, dout: u32, groups: u32, a: f32, b: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
${yBinding}
@group(0) @binding(${outAt}) var<storage, read_write> out: array<f32>;
@group(0) @binding(${outAt + 1}) var<uniform> p: Params;

fn op(v: f32, w: f32) -> f32 { return ${expr}; }

@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  ${strideLoop('p.n', 'p.groups')} {
    out[p.dout + i] = op(x[p.dx + i], ${w});
  }
}
`;
}
