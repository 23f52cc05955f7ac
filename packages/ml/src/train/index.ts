export { train } from './train.ts';
export { splitProportional } from './split.ts';
export { directoryIO } from './directory-io.ts';
export type {
  TrainData, TrainOptions, TrainResult, EpochRecord, EpochContext, StepRecord, ReplicaFailure, CheckpointOptions,
} from './records.ts';
export type { OptimizerSpec, OptimizerName, ReplicaEngine } from './types.ts';
