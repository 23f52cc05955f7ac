/**
 * @tandem/core — shared-memory tensors, the fault-tolerant worker runtime and the session.
 * @packageDocumentation
 */
export { Tandem, type TandemOptions, type DeviceInfo, type MapOptions } from './session.ts';
export type { Ops, OpOptions, CallOptions } from './executor/ops.ts';
export type { UnavailableBackend } from './executor/kernel-runner.ts';
export { Tensor, Residency, HOST, DTYPES, MAX_TENSOR_BYTES, typedArrayFor, type DType, type TypedArrayFor, type AnyTypedArray } from './tensor.ts';
export type { Backend, BackendName, BackendHealth, DeviceDescription, TransferStats, RunEvent, RunObserver, RunOptions } from './backend.ts';
export type { IndexRange, KernelArg, KernelCall, KernelConstant, KernelSpec, Partial, SplitKind, UserKernelSource } from './kernel/types.ts';
export {
  BUILTIN_KERNELS, UNARY_KERNELS, BINARY_KERNELS, REDUCE_KERNELS, REDUCTIONS, builtinSpec, builtinCall, splitRange, histogramBin, compareFloats,
  type UnaryKernel, type BinaryKernel, type ReduceKernel,
} from './kernel/builtins.ts';
export { kernel, userCall, userKernelSpec, shapeForOutput, isUserKernel, type UserKernel, type UserKernelArg, type KernelHelper, type KernelOptions, type KernelThis, type KernelOutput } from './kernel/user.ts';
export { WorkerPool, type ProgressEvent } from './pool/pool.ts';
export type { PoolOptions, TaskOptions, TaskRun } from './pool/options.ts';
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
  registerErrorClass,
} from './errors.ts';
export { heft, type HeftProblem, type HeftPlan, type HeftSlot } from './planner/heft.ts';
export { CostModel, CONFIDENT_SAMPLES, CONTRADICTION_FACTOR, NEAR_FACTOR, STALE_AFTER, type Confidence, type CostModelData } from './planner/cost-model.ts';
export { fitPower, predictPower, type PowerLaw, type Sample } from './planner/power-fit.ts';
export { loadCostModel, saveCostModel, costCachePath, cacheDirectory, COST_CACHE_VERSION } from './planner/cost-cache.ts';
export { histogramEdges } from './kernel/histogram-edges.ts';
export { runSplit, eligibleBackends, POLICIES, type Policy, type SplitOptions, type ChunkRecord } from './executor/split.ts';
export { Recorder, type Span, type Activity, type Job } from './executor/recorder.ts';
export type { Replan } from './executor/replan.ts';
export type { ChromeTrace } from './executor/chrome-trace.ts';
export { SPLIT_MIN_ELEMENTS } from './session.ts';
