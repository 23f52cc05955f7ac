/**
 * Float32 math the GPU kernels (WGSL and gpu.js) share, where a GPU's builtin is too coarse to
 * agree with the cpu backend's float64 result. NUMERICS.md ("Built-in ops") states the bounds.
 */

/** Below this |x|, tanh(x) rounds to x in float32 (x³/3 is under half an ulp of x). */
export const TANH_IDENTITY_BELOW = 2 ** -12;

/**
 * Below this |x|, tanh(x) = x + x·s·P(s) with s = x² and P the Taylor coefficients below (to
 * x^15; the next term is under half an ulp here). Above it (1 - e^-2|x|) / (1 + e^-2|x|) has no
 * cancellation. The builtin tanh, or that quotient on small |x|, loses all precision near 0
 * (lavapipe's tanh(1e-30) is 3e-8).
 */
export const TANH_SERIES_BELOW = 0.55;
export const TANH_SERIES = [-1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075, -929569 / 638512875] as const;

/** P(s) in Horner form as an expression in `s` (valid WGSL and gpu.js JavaScript). */
export function tanhSeries(s: string): string {
  return TANH_SERIES.reduceRight<string>((inner, c, i) => (i === TANH_SERIES.length - 1 ? lit(c) : `(${lit(c)} + ${s} * ${inner})`), '');
}

/** 2^-126, float32's smallest normal: below it a GPU log() is wrong (lavapipe's log(1e-40) is -88). */
export const MIN_NORMAL = 1.1754943508222875e-38;
/** Denormals are scaled into the normal range by 2^24 before log, and ln(2^24) taken off after. */
export const DENORMAL_SCALE = 16777216;
export const LN_DENORMAL_SCALE = 24 * Math.LN2;

/** A float literal both WGSL and gpu.js read as float (never as an integer). */
export function lit(v: number): string {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}
