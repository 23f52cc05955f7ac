/**
 * The optimizer step every replica applies, in plain JavaScript on flat Float32Arrays.
 *
 * Why not tfjs's optimizers: replicas may run on different engines (wasm, webgpu, tensorflow),
 * and each engine rounds its own way, so the same update computed on two engines drifts apart
 * bit by bit. The same JS code on the same inputs gives the same bits on every thread, so
 * replicas stay bit-identical whatever they run on — and the state (moments, step count) is a few
 * arrays that checkpoints and replacement replicas copy exactly. The formulas are tfjs's
 * (tfjs-core 4.x `train.sgd/momentum/adam/rmsprop`), with the same defaults.
 */
import type { OptimizerConfig } from './types.ts';

/** An optimizer's state: the step count and one or two per-parameter slots (moments). */
export interface OptimizerState {
  step: number;
  slots: Float32Array[];
}

const SLOT_COUNT: Record<OptimizerConfig['type'], (o: OptimizerConfig) => number> = {
  sgd: () => 0,
  momentum: () => 1,
  adam: () => 2,
  rmsprop: (o) => ((o.momentum ?? 0) > 0 ? 2 : 1),
};

/** Fresh state for `parameters` trainable values. */
export function createOptimizerState(config: OptimizerConfig, parameters: number): OptimizerState {
  return { step: 0, slots: Array.from({ length: SLOT_COUNT[config.type](config) }, () => new Float32Array(parameters)) };
}

/** tfjs's default epsilon for float32 (`backend.epsilon()`). */
const EPSILON = 1e-7;

/**
 * Applies one step in place: `params -= update(grad)`, with `grad` the batch-mean gradient.
 * Each value is computed in float64 and stored rounded to float32, the same on every thread.
 */
export function applyOptimizer(config: OptimizerConfig, state: OptimizerState, params: Float32Array, grad: Float32Array): void {
  const lr = config.learningRate;
  const n = params.length;
  state.step++;
  switch (config.type) {
    case 'sgd':
      for (let i = 0; i < n; i++) params[i] = params[i]! - lr * grad[i]!;
      return;
    case 'momentum': {
      const mu = config.momentum ?? 0.9;
      const [acc] = state.slots as [Float32Array];
      for (let i = 0; i < n; i++) {
        acc[i] = mu * acc[i]! + grad[i]!;
        params[i] = params[i]! - lr * acc[i]!;
      }
      return;
    }
    case 'adam': {
      const b1 = config.beta1 ?? 0.9;
      const b2 = config.beta2 ?? 0.999;
      const eps = config.epsilon ?? EPSILON;
      const [m, v] = state.slots as [Float32Array, Float32Array];
      const c1 = 1 - b1 ** state.step;
      const c2 = 1 - b2 ** state.step;
      for (let i = 0; i < n; i++) {
        const g = grad[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        params[i] = params[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
      }
      return;
    }
    case 'rmsprop': {
      const decay = config.decay ?? 0.9;
      const mu = config.momentum ?? 0;
      const eps = config.epsilon ?? EPSILON;
      const [ms, mom] = state.slots as [Float32Array, Float32Array | undefined];
      for (let i = 0; i < n; i++) {
        const g = grad[i]!;
        ms[i] = decay * ms[i]! + (1 - decay) * g * g;
        if (mom) {
          mom[i] = mu * mom[i]! + (lr * g) / Math.sqrt(ms[i]! + eps);
          params[i] = params[i]! - mom[i]!;
        } else {
          params[i] = params[i]! - (lr * g) / Math.sqrt(ms[i]! + eps);
        }
      }
      return;
    }
  }
}
