/**
 * WGSL shared by every shader.
 *
 * NaN and infinity: WGSL lets an implementation assume floats are finite, and its min/max/clamp
 * are unspecified for NaN, so the shaders never rely on IEEE-754 behaviour of a builtin where the
 * contract names a result: NaN is tested on the bits (a compiler assuming finite math may fold
 * `x != x` to false, but not an integer mask), and NaN/±Inf come from bit patterns held in private
 * variables, because a constant expression yielding them is a shader-creation error.
 */

/** Workgroup size of the 1-D kernels. */
export const WG = 256;

/**
 * Most workgroups a grid-stride kernel is dispatched with. Each thread then handles many elements
 * in a loop, which costs far less than many small workgroups on a CPU rasteriser (3× on lavapipe
 * for a 16M-element map) and is as fast on a GPU once the grid fills the device.
 */
export const STRIDE_GROUPS = 4096;

/** Workgroups for a grid-stride dispatch over `n` elements. */
export function strideGroups(n: number): number {
  return Math.max(1, Math.min(STRIDE_GROUPS, Math.ceil(n / WG)));
}

/**
 * The loop header of a grid-stride kernel over `n` elements run by `groups` workgroups (WGSL
 * expressions). The grid may be 2-D with a few surplus workgroups; they skip the loop.
 */
export function strideLoop(n: string, groups: string): string {
  return `let g = group_index(wid, nwg);
  for (var i = g * ${WG}u + li; g < ${groups} && i < ${n}; i += ${groups} * ${WG}u)`;
}

export const COMMON = /* wgsl */ `
var<private> BITS_NAN: u32 = 0x7fc00000u;
var<private> BITS_INF: u32 = 0x7f800000u;
fn nan_f32() -> f32 { return bitcast<f32>(BITS_NAN); }
fn inf_f32() -> f32 { return bitcast<f32>(BITS_INF); }
fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) == 0x7f800000u; }
/** Both ±0: the bits tell them apart, where == does not. */
fn both_zero(a: f32, b: f32) -> bool { return ((bitcast<u32>(a) | bitcast<u32>(b)) & 0x7fffffffu) == 0u; }
/** NaN if either is; -0 below +0 (IEEE 754-2019 minimum/maximum, JavaScript's Math.min/max). */
fn fmin(a: f32, b: f32) -> f32 {
  if (is_nan(a)) { return a; }
  if (is_nan(b)) { return b; }
  if (both_zero(a, b)) { return bitcast<f32>(bitcast<u32>(a) | bitcast<u32>(b)); }
  return select(b, a, a < b);
}
fn fmax(a: f32, b: f32) -> f32 {
  if (is_nan(a)) { return a; }
  if (is_nan(b)) { return b; }
  if (both_zero(a, b)) { return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b)); }
  return select(b, a, a > b);
}
/** The workgroup's index in a dispatch laid out as a 2-D grid (more than 65535 groups). */
fn group_index(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }
`;

/** The builtins a 1-D kernel's entry point takes. */
export const ENTRY_ARGS = '@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u';
