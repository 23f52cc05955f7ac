import { ArgumentError } from '../errors.ts';
import { moduleName } from '../pool/module-ref.ts';
import { DTYPES, Tensor } from '../tensor/tensor.ts';
import { registerKernel } from './registry.ts';
import { flattenNested } from './nested.ts';
import type { IndexRange, KernelArg, KernelCall, KernelConstant, KernelSpec, UserKernelSource } from './types.ts';

/** A kernel written once as a JS function in gpu.js's dialect; see {@link kernel}. */
export interface UserKernel extends UserKernelSource {
  readonly __tandemKernel: true;
}

/** A helper function a kernel may call by name: a named `function` declaration. */
export type KernelHelper = (...args: never[]) => unknown;

/** The third argument of {@link kernel} in its long form. */
export interface KernelOptions {
  /** Values the function reads as `this.constants.<name>`: numbers, booleans, arrays of numbers. */
  readonly constants?: Readonly<Record<string, KernelConstant>>;
  /**
   * Named helper functions the kernel (and each other) may call, as gpu.js's `addFunction`: plain
   * `function name(...) { ... }` declarations, whose bodies may read `this.thread` and `this.output`.
   */
  readonly functions?: readonly KernelHelper[];
  /**
   * The module that exports this kernel, usually `import.meta.url`. A cluster's nodes load the
   * kernel from there (under their `--allow` list) when a session with no device of its own runs
   * it; they never take code from the queue. Not needed otherwise.
   */
  readonly module?: string | URL;
}

/**
 * Declares a user kernel: a plain `function` (not an arrow: it reads `this.thread`) computing one
 * output element from `this.thread.x` (and `.y`, `.z`), its arguments and `this.constants`. The
 * same source runs as JS over index ranges in the CPU workers and as a gpu.js shader on the GPU.
 * The third argument is either the constants or `{ constants, functions }`.
 *
 * @example
 * ```ts
 * const saxpy = kernel('saxpy', function (x: number[], y: number[], a: number) {
 *   return a * x[this.thread.x] + y[this.thread.x];
 * });
 * const out = await td.map(saxpy, [x, y, 2], { output: [n] });
 *
 * function square(v: number) { return v * v; }
 * const norm = kernel('norm', function (m: number[][]) {
 *   let s = 0;
 *   for (let i = 0; i < this.constants.n; i++) s += square(m[this.thread.x][i]);
 *   return Math.sqrt(s);
 * }, { constants: { n: 16 }, functions: [square] });
 * ```
 */
export function kernel(
  name: string,
  fn: (this: KernelThis, ...args: never[]) => number,
  options: KernelOptions | Readonly<Record<string, KernelConstant>> = {},
): UserKernel {
  if (typeof name !== 'string' || name.length === 0) throw new ArgumentError('name', 'a non-empty kernel name', name);
  if (typeof fn !== 'function') throw new ArgumentError('fn', 'a function computing one output element', fn);
  const source = fn.toString();
  if (!/^(async\s+)?function\b/.test(source)) {
    throw new ArgumentError('fn', 'a `function (...) { ... }` expression: arrow functions and methods have no `this.thread`', source.slice(0, 40));
  }
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'the constants, or { constants, functions }', options);
  const long = isLongForm(options);
  const constants: Readonly<Record<string, KernelConstant>> = (long ? (options as KernelOptions).constants : (options as Readonly<Record<string, KernelConstant>>)) ?? {};
  const prefix = long ? 'options.constants' : 'constants';
  if (typeof constants !== 'object' || constants === null) throw new ArgumentError(prefix, 'an object of named constants', constants);
  for (const [k, v] of Object.entries(constants)) {
    if (typeof v === 'number' || typeof v === 'boolean') continue;
    flattenNested(v, `${prefix}.${k}`);
  }
  const functions = long ? helperSources((options as KernelOptions).functions ?? []) : [];
  const given = long ? (options as KernelOptions).module : undefined;
  const module = given === undefined ? undefined : moduleName(given, 'options.module');
  return Object.freeze({
    __tandemKernel: true as const,
    name,
    source,
    constants: Object.freeze({ ...constants }),
    ...(functions.length > 0 ? { functions: Object.freeze(functions) } : {}),
    ...(module ? { module } : {}),
  });
}

// A constant is a number, a boolean or an array of numbers, so an object under `constants` or an
// array of functions under `functions` can only be the long form.
function isLongForm(o: object): boolean {
  const { constants, functions, module } = o as { constants?: unknown; functions?: unknown; module?: unknown };
  return (typeof constants === 'object' && constants !== null && !Array.isArray(constants) && !ArrayBuffer.isView(constants))
    || (Array.isArray(functions) && functions.some((f) => typeof f === 'function'))
    || typeof module === 'string' || module instanceof URL;
}

function helperSources(functions: readonly KernelHelper[]): string[] {
  if (!Array.isArray(functions)) throw new ArgumentError('options.functions', 'an array of named functions', functions);
  return functions.map((f, i) => {
    const text = typeof f === 'function' ? f.toString() : '';
    if (!/^function\s+[A-Za-z_$][\w$]*\s*\(/.test(text)) {
      throw new ArgumentError(`options.functions[${i}]`, 'a named `function name(...) { ... }` (arrows and anonymous functions have no name to call)', text.slice(0, 40) || f);
    }
    return text;
  });
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

/** What a user kernel takes: tensors, numbers, booleans, and (nested) arrays of numbers. */
export type UserKernelArg = KernelArg | boolean | ArrayLike<number> | readonly (readonly number[] | ArrayLike<number>)[] | readonly (readonly (readonly number[])[])[];

/**
 * Builds a validated call of a user kernel. Arrays among the args become float32 tensors: flat
 * ones 1-D, nested ones (`[[1, 2], [3, 4]]`, as gpu.js users pass matrices) of their shape, so
 * the kernel reads `a[y][x]`. Booleans travel as 0/1 and reach the kernel as booleans.
 *
 * @example
 * ```ts
 * const call = userCall(k, [[[1, 2], [3, 4]], true, 2], [2, 2]);
 * ```
 */
export function userCall(k: UserKernel, args: readonly UserKernelArg[], output: KernelOutput): KernelCall {
  if (!isUserKernel(k)) throw new ArgumentError('kernel', 'a kernel made by kernel(name, fn)', k);
  if (!Array.isArray(args)) throw new ArgumentError('args', 'an array of kernel arguments (tensors, arrays or numbers)', args);
  const shape = shapeForOutput(output);
  const booleanArgs: number[] = [];
  const converted = args.map((a, i): KernelArg => {
    if (a instanceof Tensor || typeof a === 'number') return a;
    if (typeof a === 'boolean') {
      booleanArgs.push(i);
      return a ? 1 : 0;
    }
    if (ArrayBuffer.isView(a)) return Tensor.from(a as unknown as ArrayLike<number>);
    if (Array.isArray(a)) {
      const { shape: dims, values } = flattenNested(a, `args[${i}]`);
      return Tensor.from(values, dims);
    }
    throw new ArgumentError(`args[${i}]`, 'a Tensor, a (nested) array of numbers, a number or a boolean', a);
  });
  const user: UserKernelSource = booleanArgs.length > 0 ? { ...k, booleanArgs } : k;
  return { kernel: 'user', args: converted, params: {}, output: Tensor.zeros(shape, 'float32'), user };
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** The spec shared by all user kernels: a map over the output the caller sizes, cost unknown until measured. */
export const userKernelSpec: KernelSpec = {
  name: 'user',
  split: 'map',
  arity: -1,
  dtypes: DTYPES,
  output: () => {
    throw new Error('user kernels take their output shape from options.output');
  },
  checkOutput: checkUserCall,
  extent: (call: KernelCall) => call.output.size,
  // Whole rows of a 2-D output, whole planes of a 3-D one: a backend offsets only the outermost thread index.
  align: (call: KernelCall) => Math.max(1, call.output.shape.slice(1).reduce((a, b) => a * b, 1)),
  cost: (_call: KernelCall, r: IndexRange) => ({ flops: r.end - r.start, bytes: 4 * (r.end - r.start) }),
};
registerKernel(userKernelSpec);

/** What every backend requires of a user kernel's call: its source, constants, a float32 output of 1 to 3 dims, args of at most 3. */
function checkUserCall(call: KernelCall): void {
  const user = call.user;
  if (typeof user !== 'object' || user === null || typeof user.source !== 'string') {
    throw new ArgumentError('call.user', 'the user kernel ({ name, source, constants }) made by kernel(name, fn)', user);
  }
  for (const [k, v] of Object.entries(user.constants ?? {})) {
    if (typeof v !== 'number' && typeof v !== 'boolean' && !Array.isArray(v)) throw new ArgumentError(`call.user.constants.${k}`, 'a number, a boolean or an array of numbers', v);
  }
  if (user.functions !== undefined && !(Array.isArray(user.functions) && user.functions.every((f) => typeof f === 'string'))) {
    throw new ArgumentError('call.user.functions', 'the sources of named helper functions', user.functions);
  }
  if (call.output.dtype !== 'float32') throw new ArgumentError('call.output.dtype', "'float32' (user kernels return numbers)", call.output.dtype);
  if (call.output.shape.length < 1 || call.output.shape.length > 3) {
    throw new ArgumentError('call.output.shape', 'one to three dimensions ([x], [y, x] or [z, y, x])', shapeText(call.output.shape));
  }
  for (const [i, a] of call.args.entries()) {
    if (typeof a === 'number') continue;
    if (!(a instanceof Tensor)) throw new ArgumentError(`args[${i}]`, 'a Tensor or a number', a);
    if (a.shape.length > 3) throw new ArgumentError(`args[${i}].shape`, 'at most three dimensions (a kernel indexes a[z][y][x])', shapeText(a.shape));
  }
}
