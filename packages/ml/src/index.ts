/**
 * @tandem/ml — datasets (MNIST), data-parallel training on CPU and GPU replicas with checkpoints,
 * conv gradients for tfjs-wasm, sweep() (random search, ASHA).
 * @packageDocumentation
 */
export * as datasets from './datasets/index.ts';
export type { Dataset, LabelledSet, MnistOptions } from './datasets/index.ts';
export { train, splitProportional, directoryIO, NonFiniteError } from './train/index.ts';
export type {
  TrainData, TrainOptions, TrainResult, EpochRecord, EpochContext, StepRecord, ReplicaFailure, CheckpointOptions,
  OptimizerSpec, OptimizerName, ReplicaEngine, NonFiniteKind, NonFiniteStep,
} from './train/index.ts';
export { registerWasmConvGradients, unregisterWasmConvGradients, WASM_CONV_GRADIENT_KERNELS } from './wasm-grads/index.ts';
export { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './wasm-kernels/index.ts';
export type { RegisterWasmConvGradientsOptions, WasmConvGradientKernel } from './wasm-grads/index.ts';
export { sweep, ashaRungs, formatSweep, sampleSpace, validateSpace } from './sweep/index.ts';
export type { SweepOptions, SweepResult, TrialResult, SweepMetric, SearchSpace, SpaceEntry, SampledConfig, Choice } from './sweep/index.ts';
export { pipeline, Pipeline, rowRandom } from './pipeline/index.ts';
export type { Batch, BatchOptions, MapBlock, MapFunction, MapOptions, MapResult, PipelineOptions, ShuffleOptions } from './pipeline/index.ts';
