/** Checks of a kernel call before any worker sees it, so bad input fails at the call with a named argument. */
import { compileKernel } from './kernels/user.ts';
import { ArgumentError, Tensor, builtinSpec, userKernelSpec, type IndexRange, type KernelCall, type KernelSpec } from '@tandem/core';

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Validates `call` and returns its spec; `shared` requires every tensor on shared memory (thread workers). */
export function checkCall(call: KernelCall, shared: boolean): KernelSpec {
  if (typeof call !== 'object' || call === null) throw new ArgumentError('call', 'a KernelCall { kernel, args, params, output }', call);
  if (!(call.output instanceof Tensor)) throw new ArgumentError('call.output', 'a Tensor preallocated for the result', call.output);
  if (!Array.isArray(call.args)) throw new ArgumentError('call.args', 'an array of tensors and numbers', call.args);
  const spec = call.kernel === 'user' ? checkUser(call) : checkBuiltin(call);
  if (shared) {
    for (const [i, a] of call.args.entries()) {
      if (a instanceof Tensor && !a.shared) throw new ArgumentError(`call.args[${i}]`, 'a tensor on shared memory (Tensor.zeros / Tensor.from)', 'a tensor on a plain ArrayBuffer');
    }
    if (!call.output.shared) throw new ArgumentError('call.output', 'a tensor on shared memory (Tensor.zeros / Tensor.from)', 'a tensor on a plain ArrayBuffer');
  }
  return spec;
}

function checkBuiltin(call: KernelCall): KernelSpec {
  const spec = builtinSpec(call.kernel);
  const { shape, dtype } = spec.output(call.args, call.params ?? {});
  const out = call.output;
  if (out.dtype !== dtype || out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    throw new ArgumentError('call.output', `a ${dtype} tensor of shape ${shapeText(shape)} for kernel '${call.kernel}'`, `${out.dtype} ${shapeText(out.shape)}`);
  }
  return spec;
}

function checkUser(call: KernelCall): KernelSpec {
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
    if (!(a instanceof Tensor)) throw new ArgumentError(`call.args[${i}]`, 'a Tensor or a number', a);
    if (a.shape.length > 3) throw new ArgumentError(`call.args[${i}].shape`, 'at most three dimensions (as gpu.js kernels take)', shapeText(a.shape));
  }
  try {
    compileKernel(user.source, user.functions ?? []);
  } catch (error) {
    throw new ArgumentError('call.user.source', `a function expression that compiles (${(error as Error).message})`, user.source.slice(0, 60));
  }
  return userKernelSpec;
}

/** The range to compute: the whole index space when omitted; otherwise checked against extent and alignment. */
export function checkRange(spec: KernelSpec, call: KernelCall, range: IndexRange | undefined): IndexRange {
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
