/**
 * What the built-in numerics test holds every backend to, in one place: the special inputs, how
 * a float32 result is compared with a float64 reference, and each op's tolerance. NUMERICS.md
 * ("Built-in ops") documents the same rules for users; change both together.
 */
import { expect } from 'vitest';

const f32 = Math.fround;

/** The smallest positive normal float32 (2^-126) and the largest finite one. */
export const MIN_NORMAL = 2 ** -126;
export const MAX_F32 = f32(3.4028234663852886e38);

/** Inputs every elementwise op sees: IEEE specials, denormals, the edges of float32's range, and ordinary values. */
export const SPECIALS: readonly number[] = [
  Number.NaN, Infinity, -Infinity, 0, -0,
  1e-40, -1e-40, 2 ** -149, -(2 ** -149), MIN_NORMAL, -MIN_NORMAL,
  1e-30, -1e-30, 1e-7, -1e-7, 1e-3, -1e-3, 0.25, -0.4, 0.5, 0.9, -1, 1, 1.5, -2, 3, 10, -20,
  88, 89, -87, -104, 1e10, -1e10, 1e30, -1e30, MAX_F32, -MAX_F32,
].map(f32);

/** A smaller set for pairwise ops (every pair of it), and the scalars the scalar-operand forms take. */
export const PAIR_VALUES: readonly number[] = [Number.NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, MIN_NORMAL, 1e-30, -0.5, 1, 3, -1e30, MAX_F32].map(f32);
export const SCALARS: readonly number[] = [Number.NaN, Infinity, -Infinity, 0, -0, 1e-40, -2.5, 1e30].map(f32);

export const isDenormal = (v: number): boolean => v !== 0 && Math.abs(v) < MIN_NORMAL;
/** A denormal read as the zero of its sign, as WGSL lets a GPU do with any f32 operand or result. */
export const flush = (v: number): number => (isDenormal(v) ? (v < 0 ? -0 : 0) : v);

/** Distance in float32 steps between two finite float32 values (±0 are one point here). */
export function ulps(a: number, b: number): number {
  const key = (v: number) => {
    const bits = new Uint32Array(Float32Array.of(v).buffer)[0]!;
    return bits & 0x80000000 ? -(bits & 0x7fffffff) : bits;
  };
  return Math.abs(key(a) - key(b));
}

/**
 * How far a result may be from the correctly rounded float32 of the float64 reference: `ulps`
 * float32 steps, or `atol` absolute (ops whose error is bounded absolutely, like log near 1).
 * A zero reference wants a zero of the same sign unless `atol` covers the result.
 */
export interface Tolerance {
  readonly ulps: number;
  readonly atol?: number;
}

/**
 * Per-op tolerances. The cpu backend computes in float64 and rounds once, so its elementwise ops
 * are exact or within an ulp; GPUs use float32 builtins with WGSL's error bounds (exp: 3 + 2·|x|
 * ulps, log: 3 ulps away from 1 and 2^-21 absolute near it, division 2.5 ulps).
 */
export const NUMERIC_TOLERANCE = {
  exact: { ulps: 0 },
  cpu: { transcendental: { ulps: 1 } },
  gpu: {
    exp: (x: number): Tolerance => ({ ulps: 3 + 2 * Math.abs(x) }),
    log: (_x: number): Tolerance => ({ ulps: 3, atol: 2 ** -21 }),
    sqrt: (_x: number): Tolerance => ({ ulps: 3 }),
    div: (_x: number): Tolerance => ({ ulps: 3 }),
    /** 1 / (1 + e^-x): exp's bound plus the add and the division. */
    sigmoid: (x: number): Tolerance => ({ ulps: 6 + 2 * Math.abs(x) }),
    tanh: (_x: number): Tolerance => ({ ulps: 4 }),
  },
  /**
   * tfjs-backend-webgpu's tanh, (1 - e^-2|x|) / (1 + e^-2|x|), cancels near 0: its error is
   * absolute, a few ulps of 1 (lavapipe: tanh(1e-30) = 3e-8). A documented difference (NUMERICS.md).
   */
  tfjsWebgpuTanh: { ulps: 4, atol: 2 ** -22 },
  /** a·x + y rounded twice or fused: one ulp of a·x absolute. */
  saxpy: (a: number, x: number): Tolerance => ({ ulps: 1, atol: Math.abs(f32(a * x)) * 2 ** -23 }),
  /** Recursive summation in float32: (n - 1)·u·Σ|x| (Higham 4.2); the mean's bound is the sum's over n. */
  sum: (x: readonly number[]): Tolerance => ({ ulps: 1, atol: Math.max(0, x.length - 1) * 2 ** -24 * absSum(x) }),
  mean: (x: readonly number[]): Tolerance => ({ ulps: 1, atol: (Math.max(0, x.length - 1) * 2 ** -24 * absSum(x)) / Math.max(1, x.length) }),
  /** A dot product of length k: k·u·Σ|a·b|, the same bound with the products as terms. */
  dot: (terms: readonly number[]): Tolerance => ({ ulps: 1, atol: terms.length * 2 ** -24 * absSum(terms) }),
} as const;

function absSum(x: readonly number[]): number {
  let s = 0;
  for (const v of x) if (Number.isFinite(v)) s += Math.abs(v);
  return s;
}

/** Whether float32 `actual` is within `tol` of the float64 reference `ref`. */
export function within(actual: number, ref: number, tol: Tolerance): boolean {
  if (Number.isNaN(ref)) return Number.isNaN(actual);
  const expected = f32(ref);
  if (!Number.isFinite(expected)) return actual === expected;
  if (!Number.isFinite(actual)) return false;
  if (tol.atol !== undefined && Math.abs(actual - ref) <= tol.atol) return true;
  if (expected === 0 && actual === 0) return Object.is(expected, actual);
  return ulps(actual, expected) <= tol.ulps;
}

/**
 * A GPU result within tolerance only where the GPU flushes denormals, which WGSL allows: of the
 * reference on flushed inputs, or with a denormal result read as zero.
 */
export function withinFlushed(actual: number, ref: number, refFlushed: number, tol: Tolerance): boolean {
  return within(actual, flush(f32(ref)), tol) || within(actual, refFlushed, tol) || within(actual, flush(f32(refFlushed)), tol);
}

/** One checked value: what ran, on what, what came back and what was wanted. */
export interface Outcome {
  readonly label: string;
  readonly actual: number;
  readonly ref: number;
  readonly ok: boolean;
  /** Accepted only under a documented difference (NUMERICS.md), not by the reference itself. */
  readonly via?: 'denormal flush' | 'float32 intermediates';
}

/** Fails listing every mismatch (not just the first), so one run shows the whole picture. */
export function expectNoMismatches(backend: string, outcomes: readonly Outcome[]): void {
  const bad = outcomes.filter((o) => !o.ok).map((o) => `${o.label}: got ${fmt(o.actual)}, want ${fmt(o.ref)}`);
  const excused = outcomes.filter((o) => o.ok && o.via).map((o) => `${o.label}: ${fmt(o.actual)} (reference ${fmt(o.ref)}) by ${o.via}`);
  if (excused.length > 0) console.log(`${backend}: ${excused.length} values accepted under a documented difference:\n  ${excused.join('\n  ')}`);
  expect(bad.length, `${backend}: ${bad.length} of ${outcomes.length} values out of tolerance:\n  ${bad.join('\n  ')}\n`).toBe(0);
}

export const fmt = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));
