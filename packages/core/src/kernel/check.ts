/**
 * The contract every backend's `run` verifies before it computes, written once so that the same
 * bad call fails with the same `ArgumentError` (naming the argument) whichever backend gets it.
 * Backends keep only their own limits (a binding size, shared memory) after it.
 */
import { ArgumentError } from '../errors.ts';
import { Tensor } from '../tensor/tensor.ts';
// Loaded for their registrations: a call can only be checked against a registry that holds them.
import './builtins.ts';
import './user.ts';
import { findKernel, kernelSpec, registeredKernels } from './registry.ts';
import type { IndexRange, KernelArg, KernelCall, KernelSpec } from './types.ts';

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** A call that passed {@link checkCall}: its kernel's spec and the range to compute. */
export interface CheckedCall {
  readonly spec: KernelSpec;
  readonly range: IndexRange;
}

/**
 * Checks `call` against its kernel's registered spec and `range` against the kernel's extent and
 * alignment; returns the spec and the range (the whole index space when `range` is omitted).
 * Throws an {@link ArgumentError} naming the argument: an unregistered `call.kernel`, `call.args`
 * of the wrong arity, a tensor argument of a dtype or shape the spec refuses, a `call.output`
 * whose dtype or shape is not the spec's, a `range` out of bounds or misaligned.
 *
 * @example
 * ```ts
 * import { checkCall } from '@tandem/core/backend';
 * async run(call: KernelCall, range?: IndexRange) {
 *   const { spec, range: r } = checkCall(call, range);
 *   if (!this.supports(call.kernel)) throw unsupportedKernel(this.name, call.kernel);
 *   // compute call.output over [r.start, r.end)
 * }
 * ```
 */
export function checkCall(call: KernelCall, range?: IndexRange): CheckedCall {
  if (typeof call !== 'object' || call === null) throw new ArgumentError('call', 'a KernelCall { kernel, args, params, output }', call);
  const spec = findKernel(call.kernel);
  if (!spec) throw new ArgumentError('call.kernel', `a registered kernel (${registeredKernels().join(', ')})`, call.kernel);
  if (!Array.isArray(call.args)) throw new ArgumentError('call.args', 'an array of tensors and numbers', call.args);
  if (!(call.output instanceof Tensor)) throw new ArgumentError('call.output', 'a Tensor preallocated for the result', call.output);
  checkArgs(spec, call.args);
  if (spec.checkOutput) spec.checkOutput(call);
  else checkOutput(spec, call);
  return { spec, range: checkRange(spec, call, range) };
}

/**
 * The refusal of a registered kernel a backend does not run: the same wording on every backend.
 *
 * @example
 * ```ts
 * if (!this.supports(call.kernel)) throw unsupportedKernel(this.name, call.kernel);
 * ```
 */
export function unsupportedKernel(backend: string, kernel: string): ArgumentError {
  return new ArgumentError('call.kernel', `a kernel the ${backend} backend runs ('${kernel}' is registered, but ${backend}.supports('${kernel}') is false: run it on a backend that has it)`, kernel);
}

/**
 * Builds a validated call of a registered kernel, its output allocated on shared memory by the
 * spec's shape rule. User kernels, whose output the caller sizes, are called through `userCall`.
 *
 * @example
 * ```ts
 * const call = kernelCall('histogram', [x], { bins: 16, lo: 0, hi: 1 });
 * ```
 */
export function kernelCall(name: string, args: readonly KernelArg[], params: Readonly<Record<string, number>> = {}): KernelCall {
  const spec = kernelSpec(name);
  if (spec.checkOutput) throw new ArgumentError('kernel', `a kernel whose spec sizes its output ('${name}' takes its output from the caller: td.map)`, name);
  if (!Array.isArray(args)) throw new ArgumentError('args', `an array of the arguments of kernel '${name}'`, args);
  // The same checks as a backend's checkCall, so bad input fails at the call, not in the run.
  checkArgs(spec, args);
  const { shape, dtype } = spec.output(args, params);
  return { kernel: name, args, params, output: Tensor.zeros(shape, dtype) };
}

function checkArgs(spec: KernelSpec, args: readonly KernelArg[]): void {
  const n = spec.arity;
  if (n >= 0 && args.length !== n) throw new ArgumentError('args', `${n} argument${n === 1 ? '' : 's'} for kernel '${spec.name}'`, `${args.length}`);
  const dtypes = spec.dtypes ?? ['float32'];
  for (const [i, a] of args.entries()) {
    if (a instanceof Tensor && !dtypes.includes(a.dtype)) {
      throw new ArgumentError(`args[${i}].dtype`, `${dtypes.join(' or ')} (kernel '${spec.name}' supports ${dtypes.join(', ')} only)`, a.dtype);
    }
  }
}

function checkOutput(spec: KernelSpec, call: KernelCall): void {
  const { shape, dtype } = spec.output(call.args, call.params ?? {});
  const out = call.output;
  if (out.dtype !== dtype || out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    throw new ArgumentError('call.output', `a ${dtype} tensor of shape ${shapeText(shape)} for kernel '${spec.name}'`, `${out.dtype} ${shapeText(out.shape)}`);
  }
}

function checkRange(spec: KernelSpec, call: KernelCall, range: IndexRange | undefined): IndexRange {
  const extent = spec.extent(call);
  if (range === undefined) return { start: 0, end: extent };
  const { start, end } = (range ?? {}) as Partial<IndexRange>;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start! < 0 || end! < start! || end! > extent) {
    throw new ArgumentError('range', `{ start, end } with integers 0 ≤ start ≤ end ≤ ${extent} (the kernel's extent)`, range);
  }
  const align = spec.align?.(call) ?? 1;
  if (start! % align !== 0 || (end! % align !== 0 && end !== extent)) {
    throw new ArgumentError('range', `bounds at multiples of ${align} (whole rows for '${call.kernel}') or at the extent ${extent}`, `[${start}, ${end})`);
  }
  return { start: start!, end: end! };
}
