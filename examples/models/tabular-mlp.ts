/**
 * Model module for examples/flights.ts: a small MLP for rows of numeric features (a table's
 * columns, standardized by `toTrainData`), features → hidden (ReLU) → … → classes (softmax).
 * train() imports it in every replica and calls createModel(config).
 */
import * as tfl from '@tensorflow/tfjs-layers';

export interface TabularMlpConfig {
  /** Features per row (the width of `toTrainData`'s x). */
  features: number;
  /** Classes of the label. Default 2. */
  classes?: number;
  /** Units of each hidden layer. Default [32, 16]. */
  hidden?: number[];
}

export function createModel(config: TabularMlpConfig): tfl.LayersModel {
  const hidden = config.hidden ?? [32, 16];
  const model = tfl.sequential();
  hidden.forEach((units, i) => model.add(tfl.layers.dense({ ...(i === 0 ? { inputShape: [config.features] } : {}), units, activation: 'relu' })));
  model.add(tfl.layers.dense({ ...(hidden.length === 0 ? { inputShape: [config.features] } : {}), units: config.classes ?? 2, activation: 'softmax' }));
  return model;
}
