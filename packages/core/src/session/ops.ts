import type { BinaryKernel, ReduceKernel, UnaryKernel } from '../kernel/builtins.ts';
import { ArgumentError } from '../errors.ts';
import { kernelSpec, registeredKernels } from '../kernel/registry.ts';
import type { KernelArg } from '../kernel/types.ts';
import type { Tensor } from '../tensor/tensor.ts';

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
  /**
   * Runs any registered kernel by name, built-in or one a backend registered with
   * `registerKernel` (from `@tandem/core/backend`), on a backend whose `supports` has it. Throws
   * `ArgumentError` for an unregistered kernel or arguments its spec refuses, and
   * `BackendUnavailableError` when no backend of the session runs it.
   *
   * @example
   * ```ts
   * import '@my/backend';                          // registers kernel 'scale2' and a backend that runs it
   * const y = td.ops.call('scale2', [x]);
   * const h = td.ops.call('histogram', [x], { params: { bins: 8, lo: 0, hi: 1 } });
   * console.log(await y.values());
   * ```
   */
  call(kernel: string, args: readonly KernelArg[], options?: CallOptions): Tensor;
};

/** Options of `td.ops.call`: where it runs, and the kernel's named scalar parameters. */
export interface CallOptions extends OpOptions {
  params?: Readonly<Record<string, number>>;
}

type Launch = (kernel: string, args: readonly KernelArg[], params: Record<string, number>, options: OpOptions | undefined) => Tensor;

/**
 * One op per registered kernel (but `user`, whose output the caller sizes: `td.map`), made from
 * its spec: `arity` positional arguments then the options, the spec's `params` read from them.
 * Plus `call`, which reaches any kernel registered now, including those registered later.
 */
export function makeOps(launch: Launch): Ops {
  const ops: Record<string, unknown> = {};
  for (const name of registeredKernels()) {
    const spec = kernelSpec(name);
    if (spec.checkOutput || spec.arity < 0) continue;
    ops[name] = (...given: unknown[]) => {
      const options = given[spec.arity] as (OpOptions & Record<string, number>) | undefined;
      return launch(name, given.slice(0, spec.arity) as KernelArg[], paramsOf(spec.params, options), options);
    };
  }
  ops.call = (kernel: string, args: readonly KernelArg[], options?: CallOptions) => {
    if (!Array.isArray(args)) throw new ArgumentError('args', `an array of the arguments of kernel '${kernel}'`, args);
    return launch(kernel, args, { ...(options?.params ?? {}) }, options);
  };
  return Object.freeze(ops) as Ops;
}

function paramsOf(names: readonly string[] | undefined, options: Record<string, unknown> | undefined): Record<string, number> {
  const params: Record<string, number> = {};
  for (const p of names ?? []) params[p] = options?.[p] as number;
  return params;
}
