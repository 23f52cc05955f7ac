/**
 * Model module for the CNN in bench/train.ts and examples: a small convolutional net for MNIST,
 * rows of 784 pixels reshaped by the replicas to 28×28×1. conv 5×5 ×filters → max-pool 2 →
 * conv 5×5 ×2·filters → max-pool 2 → dense(hidden) → softmax over 10 digits. On wasm replicas,
 * train() registers the conv filter gradient that tfjs-backend-wasm lacks.
 */
import * as tfl from '@tensorflow/tfjs-layers';

export interface CnnConfig {
  /** Filters of the first convolution (the second has twice as many). Default 16. */
  filters?: number;
  /** Units of the dense layer. Default 64. */
  hidden?: number;
}

export function createModel(config: CnnConfig = {}): tfl.LayersModel {
  const filters = config.filters ?? 16;
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters, kernelSize: 5, activation: 'relu' }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: 2 * filters, kernelSize: 5, activation: 'relu' }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: config.hidden ?? 64, activation: 'relu' }));
  model.add(tfl.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}
