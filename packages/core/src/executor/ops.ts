import type { BinaryKernel, ReduceKernel, UnaryKernel } from '../kernel/builtins.ts';
import type { KernelArg } from '../kernel/types.ts';
import type { Tensor } from '../tensor.ts';

/** Options of every op (and of `td.map`). */
export interface OpOptions {
  /**
   * Where the op runs: a device id (`webgpu:0`) or a backend name (`cpu`). Default: where the
   * planner places it; if that device is lost mid-run, the op re-runs on a healthy one. A device
   * named here is the user's choice and is kept: if it is lost, the op rejects with
   * `DeviceLostError` rather than run elsewhere.
   */
  device?: string;
}

/**
 * Built-in kernels as tensor operations. Each returns its output tensor at once; `await t.values()`
 * waits for the result. Bad input (shape, dtype) throws at the call.
 *
 * @example
 * ```ts
 * const c = td.ops.matmul(a, b);
 * const s = td.ops.sum(c);
 * console.log((await s.values())[0]);
 * ```
 */
export type Ops = {
  [K in UnaryKernel]: (x: Tensor, options?: OpOptions) => Tensor;
} & {
  [K in BinaryKernel]: (x: Tensor, y: Tensor | number, options?: OpOptions) => Tensor;
} & {
  [K in ReduceKernel]: (x: Tensor, options?: OpOptions) => Tensor;
} & {
  saxpy(x: Tensor, y: Tensor, a: number, options?: OpOptions): Tensor;
  matmul(a: Tensor, b: Tensor, options?: OpOptions): Tensor;
  /** 'same' 2-D convolution (correlation) of an image [h, w] with an odd filter [kh, kw], zero padding. */
  conv2d(image: Tensor, filter: Tensor, options?: OpOptions): Tensor;
  /** Counts of values in `bins` equal bins over [lo, hi); NaN and values outside are not counted. */
  histogram(x: Tensor, options: OpOptions & { bins: number; lo: number; hi: number }): Tensor;
  /** Inclusive prefix sum of a 1-D tensor. */
  cumsum(x: Tensor, options?: OpOptions): Tensor;
  /** Ascending sort of a 1-D tensor, NaN last. */
  sort(x: Tensor, options?: OpOptions): Tensor;
};

type Launch = (kernel: string, args: readonly KernelArg[], params: Record<string, number>, options: OpOptions | undefined) => Tensor;

const UNARY: readonly UnaryKernel[] = ['neg', 'abs', 'exp', 'log', 'sqrt', 'relu', 'sigmoid', 'tanh'];
const BINARY: readonly BinaryKernel[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'];
const REDUCE: readonly ReduceKernel[] = ['sum', 'min', 'max', 'mean'];

export function makeOps(launch: Launch): Ops {
  const ops: Record<string, unknown> = {};
  for (const k of [...UNARY, ...REDUCE, 'cumsum', 'sort']) ops[k] = (x: Tensor, o?: OpOptions) => launch(k, [x], {}, o);
  for (const k of [...BINARY, 'matmul', 'conv2d']) ops[k] = (x: Tensor, y: Tensor | number, o?: OpOptions) => launch(k, [x, y], {}, o);
  ops.saxpy = (x: Tensor, y: Tensor, a: number, o?: OpOptions) => launch('saxpy', [x, y, a], {}, o);
  ops.histogram = (x: Tensor, o: OpOptions & { bins: number; lo: number; hi: number }) => {
    const { bins, lo, hi } = o ?? ({} as never);
    return launch('histogram', [x], { bins, lo, hi }, o);
  };
  return Object.freeze(ops) as Ops;
}
