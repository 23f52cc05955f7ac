export { pipeline, Pipeline } from './pipeline.ts';
export { rowRandom } from './order.ts';
export type { Batch, BatchOptions, MapBlock, MapFunction, MapOptions, MapResult, PipelineOptions, ShuffleOptions } from './types.ts';
