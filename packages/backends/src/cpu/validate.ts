/** The cpu backend's checks of a call: the shared contract (checkCall), then what only this backend needs. */
import { ArgumentError, Tensor, checkCall, unsupportedKernel, type IndexRange, type KernelCall, type CheckedCall } from '@tandem/core/backend';
import { compileKernel } from './kernels/user.ts';

/**
 * Validates `call` and `range` before any worker sees them, so bad input fails at the call with a
 * named argument. `supports` says which registered kernels the workers run; `shared` requires
 * every tensor on shared memory (thread workers read it in place).
 */
export function checkCpuCall(call: KernelCall, range: IndexRange | undefined, supports: (kernel: string) => boolean, shared: boolean): CheckedCall {
  const checked = checkCall(call, range);
  if (!supports(call.kernel)) throw unsupportedKernel('cpu', call.kernel);
  if (call.kernel === 'user') {
    // The workers run the source as JS: a source that does not compile fails here, not in each worker.
    try {
      compileKernel(call.user!.source, call.user!.functions ?? []);
    } catch (error) {
      throw new ArgumentError('call.user.source', `a function expression that compiles (${(error as Error).message})`, call.user!.source.slice(0, 60));
    }
  }
  if (shared) {
    for (const [i, a] of call.args.entries()) {
      if (a instanceof Tensor && !a.shared) throw new ArgumentError(`call.args[${i}]`, 'a tensor on shared memory (Tensor.zeros / Tensor.from)', 'a tensor on a plain ArrayBuffer');
    }
    if (!call.output.shared) throw new ArgumentError('call.output', 'a tensor on shared memory (Tensor.zeros / Tensor.from)', 'a tensor on a plain ArrayBuffer');
  }
  return checked;
}
