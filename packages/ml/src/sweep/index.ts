export { sweep, ashaRungs, formatSweep } from './sweep.ts';
export type { SweepOptions, SweepResult, TrialResult, SweepMetric } from './sweep.ts';
export { sampleSpace, validateSpace } from './space.ts';
export type { SearchSpace, SpaceEntry, SampledConfig, Choice } from './space.ts';
