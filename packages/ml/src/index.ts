/**
 * @tandem/ml — datasets now; data-parallel training and hyperparameter search are next (issue #5).
 * @packageDocumentation
 */
export * as datasets from './datasets/index.ts';
export type { Dataset, LabelledSet, MnistOptions } from './datasets/index.ts';
