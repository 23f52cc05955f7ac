/**
 * The kernel bench's cases: inputs (seeded, on shared memory), the work each run does (flops or
 * bytes) and a float64 check of any peer's output.
 */
import { Tensor } from '@tandem/core';

export type KernelName = 'matmul' | 'saxpy' | 'sum';

export interface KernelCase {
  readonly kernel: KernelName;
  /** n: the matrix side for matmul, the element count otherwise. */
  readonly n: number;
  /** "1024", "16M". */
  readonly label: string;
  /** matmul: [a, b] (n×n); saxpy: [x, y, alpha]; sum: [x]. */
  readonly args: readonly (Tensor | number)[];
  /** What one run does: 2n³ flops (matmul), 12n bytes (saxpy: read x and y, write out), 4n bytes (sum). */
  readonly work: number;
  readonly unit: 'GFLOP/s' | 'GB/s';
}

/** Worst error of an output against float64, in units of its tolerance scale, and the verdict. */
export interface CheckResult {
  readonly error: number;
  readonly ok: boolean;
  readonly what: string;
}

export const SAXPY_ALPHA = 2.5;

/** mulberry32: a small seeded PRNG, so every run and every peer sees the same numbers. */
function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 2 ** 32);
  }
  return out;
}

function shared(values: Float32Array, shape: number[]): Tensor {
  const t = Tensor.zeros(shape, 'float32');
  t.data.set(values);
  return t;
}

export function sizeLabel(n: number): string {
  return n >= 2 ** 20 && n % 2 ** 20 === 0 ? `${n / 2 ** 20}M` : String(n);
}

export function makeCase(kernel: KernelName, n: number): KernelCase {
  const label = sizeLabel(n);
  switch (kernel) {
    case 'matmul':
      return {
        kernel, n, label, unit: 'GFLOP/s', work: 2 * n ** 3,
        args: [shared(uniform(n * n, 1, -1, 1), [n, n]), shared(uniform(n * n, 2, -1, 1), [n, n])],
      };
    case 'saxpy':
      return {
        kernel, n, label, unit: 'GB/s', work: 12 * n,
        args: [shared(uniform(n, 3, -1, 1), [n]), shared(uniform(n, 4, -1, 1), [n]), SAXPY_ALPHA],
      };
    case 'sum':
      // Positive values: the sum's relative error is then a fair measure of accumulation error.
      return { kernel, n, label, unit: 'GB/s', work: 4 * n, args: [shared(uniform(n, 5, 0, 1), [n])] };
  }
}

/** Tolerances of float32 results against float64, scaled by the magnitudes involved (as in packages/backends/test/harness.ts). */
const TOL = { matmul: (n: number) => 1e-5 * Math.sqrt(n), saxpy: 1e-6, sum: 1e-5 };

/**
 * Checks `out` (the whole output of matmul/saxpy, or `[sum]`) against float64. matmul checks 256
 * sampled entries, error relative to Σ|a·b| over the dot product; saxpy every element, relative
 * to |αx|+|y|; sum relative to Σ|x|.
 */
export function check(c: KernelCase, out: ArrayLike<number>): CheckResult {
  const tensors = c.args.filter((a): a is Tensor => a instanceof Tensor);
  let worst = 0;
  if (c.kernel === 'matmul') {
    const [a, b] = [tensors[0]!.data as Float32Array, tensors[1]!.data as Float32Array];
    const n = c.n;
    for (let s = 0; s < 256; s++) {
      const i = (s * 7919) % n;
      const j = (s * 104729 + 13) % n;
      let ref = 0;
      let mag = 0;
      for (let k = 0; k < n; k++) {
        const p = a[i * n + k]! * b[k * n + j]!;
        ref += p;
        mag += Math.abs(p);
      }
      worst = Math.max(worst, relative(out[i * n + j]!, ref, mag));
    }
    return verdict(worst, TOL.matmul(n), '256 sampled entries vs float64, relative to Σ|a·b|');
  }
  if (c.kernel === 'saxpy') {
    const [x, y] = [tensors[0]!.data as Float32Array, tensors[1]!.data as Float32Array];
    for (let i = 0; i < c.n; i++) {
      const ax = SAXPY_ALPHA * x[i]!;
      worst = Math.max(worst, relative(out[i]!, ax + y[i]!, Math.abs(ax) + Math.abs(y[i]!)));
    }
    return verdict(worst, TOL.saxpy, 'every element vs float64, relative to |αx|+|y|');
  }
  const x = tensors[0]!.data as Float32Array;
  let ref = 0;
  for (let i = 0; i < x.length; i++) ref += x[i]!;
  return verdict(relative(out[0]!, ref, ref), TOL.sum, 'vs float64 sum, relative');
}

function relative(got: number, ref: number, scale: number): number {
  const diff = Math.abs(got - ref);
  if (Number.isNaN(diff)) return Number.POSITIVE_INFINITY;
  return scale > 0 ? diff / scale : diff;
}

function verdict(error: number, tolerance: number, what: string): CheckResult {
  return { error, ok: error <= tolerance, what: `${what}, tolerance ${tolerance}` };
}
