export { train } from './train.ts';
export { splitProportional } from './split.ts';
export { directoryIO } from './directory-io.ts';
export { NonFiniteError, type NonFiniteKind, type NonFiniteStep } from './errors.ts';
export type {
  TrainData, TrainOptions, TrainResult, EpochRecord, EpochContext, StepRecord, ReplicaFailure, CheckpointOptions,
} from './records.ts';
export type { OptimizerSpec, OptimizerName, ReplicaEngine } from './types.ts';
