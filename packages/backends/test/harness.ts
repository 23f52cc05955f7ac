/**
 * What every backend's kernel tests share: inputs, plain float64 references written
 * independently of any backend, tolerances, and the rule for when a GPU must be present.
 */
import { expect } from 'vitest';
import { Tensor, type BinaryKernel, type ReduceKernel, type UnaryKernel } from '@tandem/core';
import { histogramBin } from '@tandem/core/backend';

/** Sizes every kernel is tested at: empty, one, a prime, not a multiple of a 64-wide workgroup, and ≥ 16M. */
export const SIZES = { empty: 0, one: 1, prime: 7919, ragged: 1000, large: (1 << 24) + 3 } as const;

/** Deterministic inputs (mulberry32), uniform in [lo, hi). */
export function random(n: number, seed = 1, lo = -4, hi = 4): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

/** Random values with NaN, +Infinity and -Infinity planted near the start, middle and end. */
export function withSpecials(n: number, seed = 1): Float32Array {
  const out = random(n, seed);
  const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const [k, at] of [3, Math.floor(n / 2), n - 2].entries()) if (at >= 0 && at < n) out[at] = specials[k]!;
  return out;
}

export function tensor(values: ArrayLike<number>, shape: number[] = [values.length]): Tensor<'float32'> {
  return Tensor.from(values, shape, 'float32');
}

const f32 = Math.fround;

export const refUnary: Record<UnaryKernel, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  relu: (x) => (Number.isNaN(x) ? x : Math.max(0, x)),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
};

export const refBinary: Record<BinaryKernel, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  maximum: (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.max(x, y)),
  minimum: (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.min(x, y)),
};

export function refReduce(name: ReduceKernel, x: ArrayLike<number>): number {
  let acc = name === 'min' ? Infinity : name === 'max' ? -Infinity : 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (name === 'sum' || name === 'mean') acc += v;
    else if (Number.isNaN(v) || Number.isNaN(acc)) acc = Number.NaN;
    else acc = name === 'min' ? Math.min(acc, v) : Math.max(acc, v);
  }
  return name === 'mean' ? acc / x.length : acc;
}

export function refMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) {
    const av = a[i * k + p]!;
    for (let j = 0; j < n; j++) out[i * n + j]! += av * b[p * n + j]!;
  }
  return out;
}

/** 'same' 2-D convolution (correlation, as in ML), zero padding, filter centred. */
export function refConv2d(img: ArrayLike<number>, h: number, w: number, f: ArrayLike<number>, kh: number, kw: number): Float64Array {
  const out = new Float64Array(h * w);
  const ch = (kh - 1) / 2;
  const cw = (kw - 1) / 2;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let acc = 0;
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const yy = y + i - ch;
      const xx = x + j - cw;
      if (yy >= 0 && yy < h && xx >= 0 && xx < w) acc += img[yy * w + xx]! * f[i * kw + j]!;
    }
    out[y * w + x] = acc;
  }
  return out;
}

export function refHistogram(x: ArrayLike<number>, bins: number, lo: number, hi: number): Uint32Array {
  const out = new Uint32Array(bins);
  for (let i = 0; i < x.length; i++) {
    const b = histogramBin(x[i]!, bins, lo, hi);
    if (b >= 0) out[b]!++;
  }
  return out;
}

export function refCumsum(x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  let acc = 0;
  for (let i = 0; i < x.length; i++) out[i] = acc += x[i]!;
  return out;
}

export function refSort(x: ArrayLike<number>): Float32Array {
  return Float32Array.from(x).sort();
}

/**
 * Elementwise closeness: NaN matches NaN, infinities match exactly, finite values within
 * `atol + rtol·|expected|`. Reports the first few mismatches with their index.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { rtol = 1e-5, atol = 1e-6 } = {}): void {
  expect(actual.length).toBe(expected.length);
  const bad: string[] = [];
  for (let i = 0; i < expected.length && bad.length < 5; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) bad.push(`[${i}] got ${a}, expected ${e}`);
  }
  expect(bad, `mismatches (rtol ${rtol}, atol ${atol})`).toEqual([]);
}

/** Tolerances: float32 results against float64 references. Sums grow error with length. */
export const TOLERANCE = {
  elementwise: { rtol: 2e-6, atol: 1e-7 },
  transcendental: { rtol: 2e-5, atol: 1e-6 },
  matmul: (k: number) => ({ rtol: 1e-5 * Math.sqrt(k + 1), atol: 1e-5 * Math.sqrt(k + 1) }),
  sum: (x: ArrayLike<number>) => {
    let abs = 0;
    for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) abs += Math.abs(x[i]!);
    return { rtol: 1e-5, atol: 1e-6 * abs + 1e-6 };
  },
  /** min and max are exact; a mean's error is its sum's over n (the sum's bound would let 0 pass for a mean of 1e-4). */
  reduce: (name: string, x: ArrayLike<number>) => {
    if (name === 'min' || name === 'max') return { rtol: 0, atol: 0 };
    const t = TOLERANCE.sum(x);
    return name === 'mean' ? { rtol: t.rtol, atol: t.atol / Math.max(1, x.length) } : t;
  },
} as const;

/**
 * Whether GPU tests run: they need an adapter. Without one they skip and say why, unless
 * TANDEM_REQUIRE_GPU=1 (CI sets it after installing the software GPU), where they fail.
 */
export async function gpuOrSkip(probe: () => Promise<unknown>): Promise<{ available: boolean; reason?: string }> {
  try {
    await probe();
    return { available: true };
  } catch (error) {
    const reason = (error as Error).message;
    if (process.env.TANDEM_REQUIRE_GPU === '1') {
      throw new Error(`TANDEM_REQUIRE_GPU=1 but no GPU backend is available: ${reason}`);
    }
    console.warn(`skipping GPU tests: ${reason}`);
    return { available: false, reason };
  }
}

export { f32 };

/**
 * Collects garbage and lets pending finalizers run. Backends free a device copy when its host
 * tensor is collected, so tests that count live device tensors settle this first: otherwise a
 * collection mid-test frees earlier tests' copies and moves the baseline.
 */
export async function settleGarbage(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
