/**
 * The kernel registry: every kernel's spec (name, arity, dtypes, shape rule, cost hint, split and
 * merge) in one place. The built-ins and the user-kernel spec register here when core loads; a
 * backend package may register kernels of its own, which then run through `td.ops.call`.
 */
import { ArgumentError } from '../errors.ts';
import { DTYPES } from '../tensor/tensor.ts';
import type { KernelSpec, SplitKind } from './types.ts';

const SPLITS: readonly SplitKind[] = ['map', 'reduce', 'scan', 'sort'];
// Names become `td.ops.<name>` and cost-model keys, so they are plain identifiers; `call` is the
// generic op's own name.
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(['call']);

const kernels = new Map<string, KernelSpec>();

/**
 * Registers a kernel's spec under its name. Throws an {@link ArgumentError} naming the kernel for
 * a name already registered or not an identifier (or `call`), and for a spec missing a required
 * part: `split`, `arity`, the functions `output`, `extent` and `cost`, or `merge` for a kernel
 * that does not split as a map.
 *
 * @example
 * ```ts
 * import { registerKernel } from '@tandem/core/backend';
 * registerKernel({
 *   name: 'scale2', split: 'map', arity: 1,
 *   output: ([x]) => ({ shape: [...(x as Tensor).shape], dtype: 'float32' }),
 *   extent: (call) => call.output.size,
 *   cost: (_call, r) => ({ flops: r.end - r.start, bytes: 8 * (r.end - r.start) }),
 * });
 * ```
 */
export function registerKernel(spec: KernelSpec): void {
  if (typeof spec !== 'object' || spec === null) throw new ArgumentError('spec', 'a KernelSpec { name, split, arity, output, extent, cost }', spec);
  const { name } = spec;
  if (typeof name !== 'string' || !NAME.test(name) || RESERVED.has(name)) {
    throw new ArgumentError('spec.name', "an identifier naming the kernel (letters, digits, _; not 'call')", name);
  }
  if (kernels.has(name)) throw new ArgumentError('spec.name', `a name not yet registered: kernel '${name}' is registered already`, name);
  const what = `for kernel '${name}'`;
  if (!SPLITS.includes(spec.split)) throw new ArgumentError('spec.split', `one of ${SPLITS.join(', ')} ${what}`, spec.split);
  if (!Number.isSafeInteger(spec.arity) || spec.arity < -1) throw new ArgumentError('spec.arity', `a number of arguments (-1: any) ${what}`, spec.arity);
  for (const fn of ['output', 'extent', 'cost'] as const) {
    if (typeof spec[fn] !== 'function') throw new ArgumentError(`spec.${fn}`, `a function ${what}`, spec[fn]);
  }
  for (const fn of ['align', 'checkOutput'] as const) {
    if (spec[fn] !== undefined && typeof spec[fn] !== 'function') throw new ArgumentError(`spec.${fn}`, `a function or undefined ${what}`, spec[fn]);
  }
  // Ranges of a reduce, scan or sort kernel give partial results that only `merge` can combine.
  if (spec.split !== 'map' && typeof spec.merge !== 'function') throw new ArgumentError('spec.merge', `a function (a '${spec.split}' kernel merges its ranges) ${what}`, spec.merge);
  if (spec.dtypes !== undefined && !(Array.isArray(spec.dtypes) && spec.dtypes.length > 0 && spec.dtypes.every((d) => DTYPES.includes(d)))) {
    throw new ArgumentError('spec.dtypes', `a non-empty array of ${DTYPES.join(', ')} ${what}`, spec.dtypes);
  }
  if (spec.params !== undefined && !(Array.isArray(spec.params) && spec.params.every((p) => typeof p === 'string'))) {
    throw new ArgumentError('spec.params', `an array of parameter names ${what}`, spec.params);
  }
  kernels.set(name, spec);
}

/** Removes a kernel's registration (for tests); returns whether there was one. */
export function unregisterKernel(name: string): boolean {
  return kernels.delete(name);
}

/** The registered spec of `name`, or undefined. */
export function findKernel(name: unknown): KernelSpec | undefined {
  return typeof name === 'string' ? kernels.get(name) : undefined;
}

/**
 * The spec registered as `name`; throws an {@link ArgumentError} listing the registered kernels
 * when there is none.
 *
 * @example
 * ```ts
 * const spec = kernelSpec('matmul');
 * spec.cost(call, { start: 0, end: call.output.size });
 * ```
 */
export function kernelSpec(name: string): KernelSpec {
  const spec = findKernel(name);
  if (!spec) throw new ArgumentError('kernel', `a registered kernel (${registeredKernels().join(', ')})`, name);
  return spec;
}

/**
 * The registered kernels' names, in registration order (the built-ins first).
 *
 * @example
 * ```ts
 * registeredKernels().includes('sort'); // true
 * ```
 */
export function registeredKernels(): string[] {
  return [...kernels.keys()];
}
