/**
 * @tandem/ml — data-parallel training, hyperparameter search and datasets.
 * Empty until the ML layer lands (issue #5); the package exists so the workspace layout is fixed.
 * @packageDocumentation
 */
export {};
