/**
 * @tandem/core — shared-memory tensors, the fault-tolerant worker runtime and the session.
 * @packageDocumentation
 */
export { Tandem, type TandemOptions, type DeviceInfo } from './session.ts';
export { Tensor, Residency, HOST, DTYPES, typedArrayFor, type DType, type TypedArrayFor, type AnyTypedArray } from './tensor.ts';
export type { Backend, BackendName, BackendHealth, DeviceDescription, TransferStats } from './backend.ts';
export type { IndexRange, KernelArg, KernelCall, KernelSpec, Partial, SplitKind, UserKernelSource } from './kernel/types.ts';
export {
  BUILTIN_KERNELS, UNARY_KERNELS, BINARY_KERNELS, REDUCE_KERNELS, REDUCTIONS, builtinSpec, builtinCall, splitRange, histogramBin, compareFloats,
  type UnaryKernel, type BinaryKernel, type ReduceKernel,
} from './kernel/builtins.ts';
export { kernel, userCall, userKernelSpec, shapeForOutput, isUserKernel, type UserKernel, type KernelThis, type KernelOutput } from './kernel/user.ts';
export { WorkerPool, type ProgressEvent } from './pool/pool.ts';
export type { PoolOptions, TaskOptions } from './pool/options.ts';
export type { BulkOptions, Settled } from './pool/bulk.ts';
export type { ModuleSpecifier } from './pool/module-ref.ts';
export type { PoolStats, WorkerStats, Percentiles } from './pool/stats.ts';
export type { WorkerKind } from './pool/worker-handle.ts';
export {
  TandemError,
  ArgumentError,
  TaskModuleError,
  WorkerCrashedError,
  TaskTimeoutError,
  QueueFullError,
  PoolClosedError,
  WorkerStartError,
  BackendUnavailableError,
  DeviceLostError,
} from './errors.ts';
