/**
 * @tandem/core — shared-memory tensors, the fault-tolerant worker runtime and the session.
 * @packageDocumentation
 */
export { Tandem, type TandemOptions, type DeviceInfo } from './session.ts';
export { Tensor, DTYPES, type DType, type TypedArrayFor, type AnyTypedArray } from './tensor.ts';
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
} from './errors.ts';
