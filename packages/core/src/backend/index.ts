/**
 * `@tandem/core/backend` — for backend authors: the registry a backend joins, and the contract it
 * implements. Users of Tandem need none of this; `import '@tandem/backends'` registers Tandem's own.
 *
 * @example
 * ```ts
 * import { registerBackend, type Backend } from '@tandem/core/backend';
 * registerBackend({ name: 'mine', create: async ({ pool }) => new MyBackend(pool) });
 * // and in MyBackend.run: const { spec, range: r } = checkCall(call, range);
 * ```
 * @packageDocumentation
 */
export { registerBackend, unregisterBackend, registeredBackends, type BackendContext, type BackendRegistration } from './registry.ts';
export type { Backend, BackendName, BackendHealth, DeviceDescription, TransferStats, RunEvent, RunObserver, RunOptions } from '../backend.ts';
export type { IndexRange, KernelArg, KernelCall, KernelSpec, Partial, SplitKind, UserKernelSource } from '../kernel/types.ts';
export { registerKernel, unregisterKernel, kernelSpec, registeredKernels } from '../kernel/registry.ts';
export { checkCall, kernelCall, unsupportedKernel, type CheckedCall } from '../kernel/check.ts';
export { BackendUnavailableError, DeviceLostError } from '../errors.ts';
