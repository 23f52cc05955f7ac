/**
 * Model module for examples/train-mnist.ts and bench/train.ts: an MLP for MNIST,
 * 784 → hidden (ReLU) → 10 (softmax). train() imports it in every replica and calls createModel(config).
 */
import * as tfl from '@tensorflow/tfjs-layers';

export interface MlpConfig {
  /** Hidden units. Default 128. */
  hidden?: number;
}

export function createModel(config: MlpConfig = {}): tfl.LayersModel {
  const hidden = config.hidden ?? 128;
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ inputShape: [784], units: hidden, activation: 'relu' }));
  model.add(tfl.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}
