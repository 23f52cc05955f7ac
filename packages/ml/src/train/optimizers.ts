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
 * Applies one step in place: `params -= update(g)`, where g is the sum of `grads` (each replica's
 * share-weighted gradient, in slot order, so the batch-mean gradient). Summing inside the update
 * loop saves a pass over the parameters every step. Each value is computed in float64 and
 * stored rounded to float32: the same code on the same inputs, so the same bits on every thread.
 *
 * Returns whether every parameter and moment it stored is finite. A NaN or ±Infinity in the
 * gradient reaches them in every optimizer, so this one check, made as the values are stored
 * (no extra pass), also covers the gradient; and it sees float32 overflow, which the float64
 * arithmetic alone would not.
 */
export function applyOptimizer(config: OptimizerConfig, state: OptimizerState, params: Float32Array, grads: readonly Float32Array[]): boolean {
  if (grads.length > 2) {
    // Rare (3+ replicas): pre-sum, in slot order, into the first-two form.
    const total = new Float64Array(params.length);
    for (const g of grads) for (let i = 0; i < total.length; i++) total[i]! += g[i]!;
    return applySum(config, state, params, total, undefined);
  }
  return applySum(config, state, params, grads[0]!, grads[1]);
}

/** The largest finite float32. */
const F32_MAX = 3.4028234663852886e38;

/** Whether `x` stays finite when stored as float32 (false for NaN, ±Infinity and float32 overflow). */
function fitsFloat32(x: number): boolean {
  return Math.abs(Math.fround(x)) <= F32_MAX;
}

// The check is a predictable branch on values already in registers: an accumulator (`z += v * 0`)
// would add a dependency chain through the loop and cost about a tenth of the update.
function applySum(config: OptimizerConfig, state: OptimizerState, params: Float32Array, a: Float32Array | Float64Array, b: Float32Array | undefined): boolean {
  const lr = config.learningRate;
  const n = params.length;
  let finite = true;
  state.step++;
  switch (config.type) {
    case 'sgd':
      for (let i = 0; i < n; i++) {
        const p = params[i]! - lr * (b ? a[i]! + b[i]! : a[i]!);
        params[i] = p;
        if (!fitsFloat32(p)) finite = false;
      }
      return finite;
    case 'momentum': {
      const mu = config.momentum ?? 0.9;
      const [acc] = state.slots as [Float32Array];
      for (let i = 0; i < n; i++) {
        acc[i] = mu * acc[i]! + (b ? a[i]! + b[i]! : a[i]!);
        // An accumulator that overflowed makes p infinite: one check covers both.
        const p = params[i]! - lr * acc[i]!;
        params[i] = p;
        if (!fitsFloat32(p)) finite = false;
      }
      return finite;
    }
    case 'adam': {
      const b1 = config.beta1 ?? 0.9;
      const b2 = config.beta2 ?? 0.999;
      const eps = config.epsilon ?? EPSILON;
      const [m, v] = state.slots as [Float32Array, Float32Array];
      const c1 = 1 - b1 ** state.step;
      const c2 = 1 - b2 ** state.step;
      // One loop per form (one or two gradients) keeps the per-element branch out of the hot loop.
      return b ? adamSum2(params, m, v, a, b, lr / c1, 1 / c2, b1, b2, eps) : adamSum1(params, m, v, a, lr / c1, 1 / c2, b1, b2, eps);
    }
    case 'rmsprop': {
      const decay = config.decay ?? 0.9;
      const mu = config.momentum ?? 0;
      const eps = config.epsilon ?? EPSILON;
      const [ms, mom] = state.slots as [Float32Array, Float32Array | undefined];
      for (let i = 0; i < n; i++) {
        const g = b ? a[i]! + b[i]! : a[i]!;
        ms[i] = decay * ms[i]! + (1 - decay) * g * g;
        if (mom) {
          mom[i] = mu * mom[i]! + (lr * g) / Math.sqrt(ms[i]! + eps);
          params[i] = params[i]! - mom[i]!;
        } else {
          params[i] = params[i]! - (lr * g) / Math.sqrt(ms[i]! + eps);
        }
        if (!(fitsFloat32(params[i]!) && fitsFloat32(ms[i]!))) finite = false;
      }
      return finite;
    }
  }
}

/** Adam over the sum of two gradients; `step` is lr / (1 − β₁ᵗ), `inv2` 1 / (1 − β₂ᵗ). */
function adamSum2(params: Float32Array, m: Float32Array, v: Float32Array, a: Float32Array | Float64Array, b: Float32Array,
  step: number, inv2: number, b1: number, b2: number, eps: number): boolean {
  let finite = true;
  const n = params.length;
  const k1 = 1 - b1;
  const k2 = 1 - b2;
  for (let i = 0; i < n; i++) {
    const g = a[i]! + b[i]!;
    const mi = (m[i] = b1 * m[i]! + k1 * g);
    const vi = (v[i] = b2 * v[i]! + k2 * g * g);
    const p = params[i]! - (step * mi) / (Math.sqrt(vi * inv2) + eps);
    params[i] = p;
    // v overflowing to Infinity would leave the weight finite but frozen for good.
    if (!(fitsFloat32(p) && fitsFloat32(vi))) finite = false;
  }
  return finite;
}

function adamSum1(params: Float32Array, m: Float32Array, v: Float32Array, a: Float32Array | Float64Array,
  step: number, inv2: number, b1: number, b2: number, eps: number): boolean {
  let finite = true;
  const n = params.length;
  const k1 = 1 - b1;
  const k2 = 1 - b2;
  for (let i = 0; i < n; i++) {
    const g = a[i]!;
    const mi = (m[i] = b1 * m[i]! + k1 * g);
    const vi = (v[i] = b2 * v[i]! + k2 * g * g);
    const p = params[i]! - (step * mi) / (Math.sqrt(vi * inv2) + eps);
    params[i] = p;
    if (!(fitsFloat32(p) && fitsFloat32(vi))) finite = false;
  }
  return finite;
}
