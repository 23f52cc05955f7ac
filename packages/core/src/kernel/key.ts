import { kernelSpec } from './registry.ts';
import type { KernelCall, KernelSpec } from './types.ts';
// Registers the user-kernel spec, which calls of td.map look up.
import './user.ts';

/** What the cost model and the trace call a kernel: user kernels by their own name, `user:<name>`. */
export function kernelKey(call: KernelCall): string {
  return call.user ? `user:${call.user.name}` : call.kernel;
}

/** The registered spec of the call's kernel (built-in, user, or one a backend registered). */
export function specFor(call: KernelCall): KernelSpec {
  return kernelSpec(call.kernel);
}
