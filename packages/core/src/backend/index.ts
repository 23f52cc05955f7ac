/**
 * `@tandem/core/backend` — for backend authors: the registry a backend joins, the contract it
 * implements, the kernel registry and the one call check every backend runs. Users of Tandem need
 * none of this; `import '@tandem/backends'` registers Tandem's own.
 *
 * @example
 * ```ts
 * import { registerBackend, checkCall, type Backend } from '@tandem/core/backend';
 * registerBackend({ name: 'mine', create: async ({ pool }) => new MyBackend(pool) });
 * // and in MyBackend.run: const { spec, range: r } = checkCall(call, range);
 * ```
 * @packageDocumentation
 */
export { registerBackend, unregisterBackend, registeredBackends, type BackendContext, type BackendRegistration } from './registry.ts';
export { hostCpuDevice } from './host-cpu.ts';
export type { Backend, BackendName, BackendHealth, DeviceDescription, TransferStats, RunEvent, RunObserver, RunOptions } from './contract.ts';
export type { IndexRange, KernelArg, KernelCall, KernelConstant, KernelSpec, PartialResult, SplitKind, UserKernelSource } from '../kernel/types.ts';
export { registerKernel, unregisterKernel, kernelSpec, registeredKernels } from '../kernel/registry.ts';
export { checkCall, kernelCall, unsupportedKernel, type CheckedCall } from '../kernel/check.ts';
export {
  BUILTIN_KERNELS, UNARY_KERNELS, BINARY_KERNELS, REDUCE_KERNELS, REDUCTIONS, splitRange, histogramBin, compareFloats,
  type UnaryKernel, type BinaryKernel, type ReduceKernel,
} from '../kernel/builtins.ts';
export { histogramEdges } from '../kernel/histogram-edges.ts';
export { userCall } from '../kernel/user.ts';
export { Tensor, MAX_TENSOR_BYTES, type DType, type TypedArrayFor } from '../tensor/tensor.ts';
export { HOST } from '../tensor/residency.ts';
export { WorkerPool } from '../pool/pool.ts';
export type { TaskOptions } from '../pool/options.ts';
export { TandemError, ArgumentError, BackendUnavailableError, DeviceLostError, PoolClosedError, WorkerStartError } from '../errors.ts';
