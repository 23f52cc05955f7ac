export { train, splitProportional } from './train.ts';
export type { TrainData, TrainOptions, TrainResult, EpochRecord, EpochContext } from './train.ts';
export type { OptimizerSpec, OptimizerName } from './types.ts';
