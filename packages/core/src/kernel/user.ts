import { ArgumentError } from '../errors.ts';
import { Tensor } from '../tensor.ts';
import type { IndexRange, KernelArg, KernelCall, KernelSpec, UserKernelSource } from './types.ts';

/** A kernel written once as a JS function in gpu.js's dialect; see {@link kernel}. */
export interface UserKernel extends UserKernelSource {
  readonly __tandemKernel: true;
}

/**
 * Declares a user kernel: a plain `function` (not an arrow: it reads `this.thread`) computing one
 * output element from `this.thread.x` (and `.y`, `.z`), its arguments and `this.constants`. The
 * same source runs as JS over index ranges in the CPU workers and as a gpu.js shader on the GPU.
 *
 * @example
 * ```ts
 * const saxpy = kernel('saxpy', function (x: number[], y: number[], a: number) {
 *   return a * x[this.thread.x] + y[this.thread.x];
 * });
 * const out = await td.map(saxpy, [x, y, 2], { output: [n] });
 * ```
 */
export function kernel(name: string, fn: (this: KernelThis, ...args: never[]) => number, constants: Record<string, number> = {}): UserKernel {
  if (typeof name !== 'string' || name.length === 0) throw new ArgumentError('name', 'a non-empty kernel name', name);
  if (typeof fn !== 'function') throw new ArgumentError('fn', 'a function computing one output element', fn);
  const source = fn.toString();
  if (!/^(async\s+)?function\b/.test(source)) {
    throw new ArgumentError('fn', 'a `function (...) { ... }` expression: arrow functions and methods have no `this.thread`', source.slice(0, 40));
  }
  for (const [k, v] of Object.entries(constants)) {
    if (typeof v !== 'number') throw new ArgumentError(`constants.${k}`, 'a number', v);
  }
  return Object.freeze({ __tandemKernel: true as const, name, source, constants: Object.freeze({ ...constants }) });
}

/** What `this` holds inside a kernel function. */
export interface KernelThis {
  readonly thread: { readonly x: number; readonly y: number; readonly z: number };
  readonly output: { readonly x: number; readonly y: number; readonly z: number };
  readonly constants: Readonly<Record<string, number>>;
}

/** Output dimensions in gpu.js order, `[x]`, `[x, y]` or `[x, y, z]` (x varies fastest). */
export type KernelOutput = readonly [number] | readonly [number, number] | readonly [number, number, number];

/** A tensor's shape for gpu.js output dims: `[x, y]` → `[y, x]` (row-major, x fastest). */
export function shapeForOutput(output: unknown): number[] {
  if (!Array.isArray(output) || output.length < 1 || output.length > 3) {
    throw new ArgumentError('options.output', 'the output size as [x], [x, y] or [x, y, z]', output);
  }
  for (const [i, d] of output.entries()) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ArgumentError(`options.output[${i}]`, 'a non-negative integer', d);
  }
  return [...(output as number[])].reverse();
}

export function isUserKernel(value: unknown): value is UserKernel {
  return typeof value === 'object' && value !== null && (value as UserKernel).__tandemKernel === true;
}

/** Builds a validated call of a user kernel; arrays among the args become float32 tensors. */
export function userCall(k: UserKernel, args: readonly (KernelArg | ArrayLike<number>)[], output: KernelOutput): KernelCall {
  if (!isUserKernel(k)) throw new ArgumentError('kernel', 'a kernel made by kernel(name, fn)', k);
  if (!Array.isArray(args)) throw new ArgumentError('args', 'an array of kernel arguments (tensors, arrays or numbers)', args);
  const shape = shapeForOutput(output);
  const converted = args.map((a, i): KernelArg => {
    if (a instanceof Tensor || typeof a === 'number') return a;
    if (ArrayBuffer.isView(a) || Array.isArray(a)) return Tensor.from(a as ArrayLike<number>);
    throw new ArgumentError(`args[${i}]`, 'a Tensor, an array of numbers or a number', a);
  });
  return { kernel: 'user', args: converted, params: {}, output: Tensor.zeros(shape, 'float32'), user: k };
}

/** The spec shared by all user kernels: a map over the output, cost unknown until measured. */
export const userKernelSpec: KernelSpec = {
  name: 'user',
  split: 'map',
  arity: -1,
  output: () => {
    throw new Error('user kernels take their output shape from options.output');
  },
  extent: (call: KernelCall) => call.output.size,
  // Whole rows of a 2-D output, whole planes of a 3-D one: a backend offsets only the outermost thread index.
  align: (call: KernelCall) => Math.max(1, call.output.shape.slice(1).reduce((a, b) => a * b, 1)),
  cost: (_call: KernelCall, r: IndexRange) => ({ flops: r.end - r.start, bytes: 4 * (r.end - r.start) }),
};
