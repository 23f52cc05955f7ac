/**
 * One data-parallel replica, loaded into its own worker thread. It keeps its model, its
 * optimizer and the shared all-reduce buffers in module state between tasks.
 *
 * Each step a replica: applies the previous step's averaged gradient (summing every replica's
 * region of the shared buffer, in replica order, so the sum is bit-identical everywhere), then
 * computes the gradient of `sum(loss over its share) / globalBatch` and writes it into its own
 * region. Gradient regions are double-buffered by step parity, so a replica still reading step
 * k-1's regions never races one already writing step k's.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { seededRandom } from '../datasets/random.ts';
import type { OptimizerConfig, ReplicaBuffers, ReplicaDescription, ReplicaInit } from './types.ts';

interface State {
  init: ReplicaInit;
  model: LayersModel;
  optimizer: tf.Optimizer;
  vars: tf.Variable[];
  sizes: number[];
  trainableCount: number;
  weightCount: number;
  classes: number;
  buffers?: ReplicaBuffers;
  /** Parity of gradients written but not yet applied, or -1. */
  pending: number;
}

let state: State | undefined;
const EPSILON = 1e-7;

async function setBackend(backend: 'wasm' | 'cpu'): Promise<void> {
  if (tf.getBackend() === backend) return;
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
    wasm.setWasmPaths(dist);
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend '${backend}' failed to start in this worker`);
  await tf.ready();
}

function makeOptimizer(o: OptimizerConfig): tf.Optimizer {
  switch (o.type) {
    case 'sgd': return tf.train.sgd(o.learningRate);
    case 'momentum': return tf.train.momentum(o.learningRate, o.momentum ?? 0.9);
    case 'adam': return tf.train.adam(o.learningRate, o.beta1, o.beta2, o.epsilon);
    case 'rmsprop': return tf.train.rmsprop(o.learningRate, o.decay, o.momentum, o.epsilon);
  }
}

function current(): State {
  if (!state) throw new Error('replica not initialised: call init() first');
  return state;
}

/** Builds the model with the user's createModel(config) and the optimizer. */
export async function init(init: ReplicaInit): Promise<ReplicaDescription> {
  await setBackend(init.backend);
  if (state) {
    state.optimizer.dispose();
    state.model.dispose();
    state = undefined;
  }
  const href = init.modelUrl.startsWith('file:') ? init.modelUrl : pathToFileURL(init.modelUrl).href;
  const mod = (await import(href)) as { createModel?: (config: unknown) => LayersModel | Promise<LayersModel> };
  if (typeof mod.createModel !== 'function') throw new Error(`model module ${href} does not export a createModel(config) function`);
  // tfjs initialisers without a seed draw one from Math.random: seed it while the model is built,
  // so the same seed gives the same initial weights whatever the replica count.
  const original = Math.random;
  Math.random = seededRandom(init.seed ^ 0x5eed);
  let model: LayersModel;
  try {
    model = await mod.createModel(init.config);
  } finally {
    Math.random = original;
  }
  if (!model || typeof (model as LayersModel).getWeights !== 'function') throw new Error('createModel(config) must return a tfjs-layers model');
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const sizes = vars.map((v) => v.size);
  const weightShapes = model.getWeights().map((w) => [...w.shape]);
  const outShape = model.outputs[0]!.shape;
  const classes = outShape[outShape.length - 1] ?? 0;
  state = {
    init, model, vars, sizes, classes,
    optimizer: makeOptimizer(init.optimizer),
    trainableCount: sizes.reduce((a, b) => a + b, 0),
    weightCount: weightShapes.reduce((a, s) => a + s.reduce((p, d) => p * d, 1), 0),
    pending: -1,
  };
  return {
    inputShape: [...model.inputs[0]!.shape],
    outputUnits: classes,
    weightShapes,
    weightCount: state.weightCount,
    trainableCount: state.trainableCount,
  };
}

/** Attaches the shared buffers; replica 0 publishes its initial weights, the others load them. */
export function attach(buffers: ReplicaBuffers, publish: boolean): void {
  const s = current();
  s.buffers = buffers;
  s.pending = -1;
  if (publish) buffers.weights.set(flatWeights());
  else loadWeights(buffers.weights);
}

function flatWeights(): Float32Array {
  const s = current();
  const out = new Float32Array(s.weightCount);
  let at = 0;
  for (const w of s.model.getWeights()) {
    out.set(w.dataSync() as Float32Array, at);
    at += w.size;
  }
  return out;
}

function loadWeights(flat: Float32Array): void {
  const s = current();
  let at = 0;
  const tensors = s.model.getWeights().map((w) => {
    const t = tf.tensor(flat.slice(at, at + w.size), w.shape, 'float32');
    at += w.size;
    return t;
  });
  s.model.setWeights(tensors);
  tf.dispose(tensors);
}

/** This replica's weights, flattened in getWeights() order (a copy). */
export function weights(): Float32Array {
  return flatWeights();
}

/** Applies the pending averaged gradient, if any. */
export function apply(): void {
  const s = current();
  const b = s.buffers;
  if (!b || s.pending < 0) return;
  const n = s.trainableCount;
  const sum = new Float32Array(n);
  const base = s.pending * s.init.replicas * n;
  // Every replica sums the same regions in the same order: the result is bit-identical everywhere.
  for (let r = 0; r < s.init.replicas; r++) {
    const region = b.grads.subarray(base + r * n, base + (r + 1) * n);
    for (let i = 0; i < n; i++) sum[i]! += region[i]!;
  }
  const named: tf.NamedTensorMap = {};
  let at = 0;
  s.vars.forEach((v, i) => {
    named[v.name] = tf.tensor(sum.subarray(at, at + s.sizes[i]!), v.shape, 'float32');
    at += s.sizes[i]!;
  });
  s.optimizer.applyGradients(named);
  tf.dispose(Object.values(named));
  s.pending = -1;
}

/**
 * Applies the pending update, then computes gradients on examples `order[start + offset ..
 * start + offset + count)` of a global batch of `total`, scaled by 1/total, into region
 * (`parity`, replica). Returns the milliseconds the gradient computation took.
 */
export function step(parity: number, start: number, offset: number, count: number, total: number): number {
  apply();
  const s = current();
  const b = s.buffers;
  if (!b) throw new Error('replica has no buffers: call attach() first');
  const { replica, replicas, features, x, y, order } = s.init;
  const n = s.trainableCount;
  const region = b.grads.subarray((parity * replicas + replica) * n, (parity * replicas + replica + 1) * n);
  const t0 = performance.now();
  if (count === 0) {
    region.fill(0);
    b.losses[parity * replicas + replica] = 0;
  } else {
    const xs = new Float32Array(count * features);
    const ys = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      const i = order[start + offset + k]!;
      xs.set(x.subarray(i * features, (i + 1) * features), k * features);
      ys[k] = y[i]!;
    }
    const { value, grads } = tf.tidy(() => {
      const input = tf.tensor2d(xs, [count, features]);
      const oneHot = tf.oneHot(tf.tensor1d(ys, 'int32'), s.classes);
      return tf.variableGrads(() => {
        const probs = s.model.apply(input, { training: true }) as tf.Tensor;
        const clipped = tf.clipByValue(probs, EPSILON, 1 - EPSILON);
        return tf.div(tf.neg(tf.sum(tf.mul(oneHot, tf.log(clipped)))), total) as tf.Scalar;
      }, s.vars);
    });
    let at = 0;
    s.vars.forEach((v, i) => {
      const g = grads[v.name];
      if (g) region.set(g.dataSync() as Float32Array, at);
      else region.fill(0, at, at + s.sizes[i]!);
      at += s.sizes[i]!;
    });
    b.losses[parity * replicas + replica] = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
  }
  s.pending = parity;
  return performance.now() - t0;
}

/** Accuracy (argmax of the output) on rows [from, to) of x/y. */
export function evaluate(x: Float32Array, y: Int32Array, features: number, from: number, to: number, batch = 512): number {
  const s = current();
  let correct = 0;
  for (let a = from; a < to; a += batch) {
    const e = Math.min(to, a + batch);
    const pred = tf.tidy(() => {
      const input = tf.tensor2d(x.subarray(a * features, e * features), [e - a, features]);
      return tf.argMax(s.model.predict(input) as tf.Tensor, -1);
    });
    const p = pred.dataSync();
    pred.dispose();
    for (let k = 0; k < e - a; k++) if (p[k] === y[a + k]) correct++;
  }
  return to > from ? correct / (to - from) : NaN;
}
