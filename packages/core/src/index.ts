/**
 * @tandem/core — what users of Tandem call: the session, tensors, user kernels, the worker pool
 * and the errors they may catch. Backend authors import `@tandem/core/backend`; Tandem's own
 * backends are one import away: `import '@tandem/backends'`.
 * @packageDocumentation
 */
export { Tandem, type TandemOptions, type DeviceInfo, type MapOptions, type SessionStats } from './session/session.ts';
export type { Ops, OpOptions, CallOptions } from './session/ops.ts';
export type { UnavailableBackend } from './backend/open.ts';
export type { BackendName, DeviceDescription } from './backend/contract.ts';
export { POLICIES, type Policy } from './planner/policy.ts';
export type { Replan } from './planner/replan.ts';
export type { CostModel } from './planner/cost-model.ts';
export { Table, Dictionary, COLUMN_TYPES, type Batch, type Schema, type Column, type ColumnType, type ReadOptions, type RunOptions, type Aggregation, type AggSpec, type Comparison, type JoinOptions, type PlainBatch, type PlainColumn, type PlainColumns, type PipelineRun, type StageStats, type TrainData, type TrainDataOptions, type LabelledRows, type WriteFormat } from './data/index.ts';
export { Tensor, DTYPES, MAX_TENSOR_BYTES, typedArrayFor, type DType, type TypedArrayFor, type AnyTypedArray } from './tensor/tensor.ts';
export { Residency, HOST } from './tensor/residency.ts';
export { kernel, type UserKernel, type UserKernelArg, type KernelHelper, type KernelOptions, type KernelThis, type KernelOutput } from './kernel/user.ts';
export type { UnaryKernel, BinaryKernel, ReduceKernel } from './kernel/builtins.ts';
export { WorkerPool, type ProgressEvent } from './pool/pool.ts';
export type { WorkerLease } from './pool/lease.ts';
export type { PoolOptions, TaskOptions, TaskRun } from './pool/options.ts';
export type { BulkOptions, Settled } from './pool/bulk.ts';
export type { ModuleSpecifier } from './pool/module-ref.ts';
export type { ClusterOptions } from './cluster/options.ts';
export type { NodeInfo as ClusterNodeInfo, NodeSessionStats } from './cluster/heartbeat.ts';
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
  DataFormatError,
  registerErrorClass,
} from './errors.ts';
