import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { applyOptimizer, createOptimizerState } from '../src/train/optimizers.ts';
import type { OptimizerConfig } from '../src/train/types.ts';
import { seededRandom } from '../src/datasets/random.ts';

const N = 257;
const STEPS = 6;

function tfjsOptimizer(c: OptimizerConfig): tf.Optimizer {
  switch (c.type) {
    case 'sgd': return tf.train.sgd(c.learningRate);
    case 'momentum': return tf.train.momentum(c.learningRate, c.momentum ?? 0.9);
    case 'adam': return tf.train.adam(c.learningRate, c.beta1, c.beta2, c.epsilon);
    case 'rmsprop': return tf.train.rmsprop(c.learningRate, c.decay, c.momentum, c.epsilon);
  }
}

describe('the replicas\' JS optimizers', () => {
  const configs: OptimizerConfig[] = [
    { type: 'sgd', learningRate: 0.1 },
    { type: 'momentum', learningRate: 0.05, momentum: 0.8 },
    { type: 'adam', learningRate: 0.01 },
    { type: 'adam', learningRate: 0.003, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 },
    { type: 'rmsprop', learningRate: 0.01 },
    { type: 'rmsprop', learningRate: 0.01, momentum: 0.5, decay: 0.8 },
  ];

  it.each(configs)('follows tfjs\'s $type (%o) step by step', async (config) => {
    await tf.setBackend('cpu');
    const random = seededRandom(3);
    const start = Float32Array.from({ length: N }, () => random() - 0.5);
    const grads = Array.from({ length: STEPS }, () => Float32Array.from({ length: N }, () => (random() - 0.5) * 0.2));
    const ours = start.slice();
    const state = createOptimizerState(config, N);
    const theirs = tf.variable(tf.tensor1d(start));
    const optimizer = tfjsOptimizer(config);
    for (const g of grads) {
      applyOptimizer(config, state, ours, [g]);
      tf.tidy(() => optimizer.applyGradients({ [theirs.name]: tf.tensor1d(g) }));
    }
    const expected = theirs.dataSync();
    let worst = 0;
    for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(ours[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-6);
    expect(state.step).toBe(STEPS);
    // And it moved: the comparison is not between two unchanged copies.
    expect(Math.abs(ours[0]! - start[0]!)).toBeGreaterThan(1e-5);
    optimizer.dispose();
    theirs.dispose();
  });
});
