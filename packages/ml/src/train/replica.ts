/**
 * One data-parallel replica, loaded into its own worker thread with its own tfjs engine. It keeps
 * its model, its flat copy of the trainable parameters and its optimizer state in module state.
 *
 * `runSteps` runs a segment of an epoch without the main thread: each step it computes the
 * gradient of `sum(loss over its share) / globalBatch` into its region of the shared gradient
 * buffer, meets the other replicas at the barrier, then sums every live replica's region in slot
 * order and applies the optimizer in JS — the same bits on every replica, whatever its engine.
 * Gradient regions are double-buffered by step parity, so a replica still summing step k's
 * regions never races one already writing step k+1's.
 */
import { pathToFileURL } from 'node:url';
import { threadId } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import { ArgumentError, DeviceLostError } from '@tandem/core';
import { loadEngine } from '@tandem/backends/tfjs-engines';
import { seededRandom } from '../datasets/random.ts';
import { registerWasmConvGradients } from '../wasm-grads/index.ts';
import { registerWasmTrainingKernels } from '../wasm-kernels/index.ts';
import { arriveAndWait, isAlive, shareOf } from './control.ts';
import { denseGradient, denseStack, type DenseStack } from './dense-step.ts';
import { clippedCrossEntropy } from './loss.ts';
import { applyOptimizer, createOptimizerState, type OptimizerState } from './optimizers.ts';
import type { NonFiniteKind } from './errors.ts';
import type { ReplicaBuffers, ReplicaDescription, ReplicaInit, ReplicaState, Segment, SegmentResult } from './types.ts';

interface State {
  init: ReplicaInit;
  model: LayersModel;
  trainable: LayerVariable[];
  sizes: number[];
  /** Where each trainable weight starts in the flat getWeights() order. */
  offsets: number[];
  /** The trainable parameters, flat, in trainableWeights order: what the optimizer updates. */
  params: Float32Array;
  optimizer: OptimizerState;
  weightCount: number;
  classes: number;
  /** The model's input shape after the batch dimension: rows are reshaped to it. */
  exampleShape: number[];
  /** Engines whose reads must be awaited (webgpu: dataSync throws in Node). */
  asyncReads: boolean;
  /** Rejects when the engine's device is lost (webgpu), so that no read waits forever on a dead device. */
  lost: Promise<never>;
  buffers?: ReplicaBuffers;
  /** Where a step's examples are gathered. */
  scratch: { x: Float32Array; y: Int32Array };
  /** The state before the step being applied, when non-finite steps are skipped (reused step to step). */
  saved?: { params: Float32Array; slots: Float32Array[]; step: number };
  /** Set when the model is a dense stack: its gradient is computed directly (`dense-step.ts`). */
  dense?: DenseStack;
}

let state: State | undefined;
const EPSILON = 1e-7;

function current(): State {
  if (!state) throw new Error('replica not initialised: call init() first');
  return state;
}

/** tfjs-backend-wasm's view of a tensor's data on its heap (no copy; valid until the heap grows or the tensor is disposed). */
interface HeapViews {
  typedArrayFromHeap(t: { dataId: object; shape: number[]; dtype: string }): Float32Array;
}

/**
 * Copies `t` into `into` at `at`. On wasm straight from the heap: dataSync() would allocate a fresh
 * copy of every gradient every step (400 KB for the MLP), and the garbage collections that follow
 * stall one replica while the others wait for it at the barrier.
 */
async function readInto(t: tf.Tensor, into: Float32Array, at: number, s: State): Promise<void> {
  if (s.init.engine === 'wasm') {
    into.set((tf.backend() as unknown as HeapViews).typedArrayFromHeap(t), at);
    return;
  }
  into.set(await read(t, s.asyncReads, s.lost), at);
}

async function read(t: tf.Tensor, asyncReads: boolean, lost?: Promise<never>): Promise<Float32Array> {
  if (!asyncReads) return t.dataSync() as Float32Array;
  return (await (lost ? Promise.race([t.data(), lost]) : t.data())) as Float32Array;
}

/** Loads the engine, builds the model with the user's createModel(config) and a fresh optimizer. */
export async function init(init: ReplicaInit): Promise<ReplicaDescription> {
  const info = await loadEngine(init.engine);
  if (!(await tf.setBackend(init.engine))) throw new Error(`tfjs engine '${init.engine}' failed to start in this worker`);
  // override: our matmul-based Conv2DBackpropInput is several times faster than wasm's native loop.
  if (init.engine === 'wasm') {
    registerWasmConvGradients({ override: true });
    registerWasmTrainingKernels();
  }
  if (state) {
    state.model.dispose();
    state = undefined;
  }
  const href = init.modelUrl.startsWith('file:') ? init.modelUrl : pathToFileURL(init.modelUrl).href;
  const mod = (await import(href)) as { createModel?: (config: unknown) => LayersModel | Promise<LayersModel> };
  // An ArgumentError crosses back to train() as one: the model option is the user's mistake.
  if (typeof mod.createModel !== 'function') throw new ArgumentError('model', `a module that exports a createModel(config) function (it exports ${Object.keys(mod).join(', ') || 'nothing'})`, href);
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
  if (!model || typeof (model as LayersModel).getWeights !== 'function') throw new ArgumentError('model', 'a createModel(config) that returns a tfjs-layers model', model);
  const trainable = model.trainableWeights;
  const sizes = trainable.map((v) => v.read().size);
  const starts: number[] = [];
  model.weights.reduce((at, w) => (starts.push(at), at + w.read().size), 0);
  const offsets = trainable.map((v) => starts[model.weights.indexOf(v)]!);
  const weightShapes = model.getWeights().map((w) => [...w.shape]);
  const outShape = model.outputs[0]!.shape;
  const asyncReads = init.engine === 'webgpu';
  const lost = info.lost.then((reason) => {
    throw new DeviceLostError(`tfjs:${init.engine} in replica ${init.slot}`, reason);
  });
  lost.catch(() => {}); // observed by reads; unobserved, it would be an unhandled rejection
  const params = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const [i, v] of trainable.entries()) {
    params.set(await read(v.read(), asyncReads), at);
    at += sizes[i]!;
  }
  const dense = denseStack(model, trainable);
  state = {
    init, model, trainable, sizes, offsets, params, asyncReads, lost, scratch: { x: new Float32Array(0), y: new Int32Array(0) }, ...(dense ? { dense } : {}),
    optimizer: createOptimizerState(init.optimizer, params.length),
    weightCount: weightShapes.reduce((a, s) => a + s.reduce((p, d) => p * d, 1), 0),
    classes: outShape[outShape.length - 1] ?? 0,
    exampleShape: model.inputs[0]!.shape.slice(1).map((d) => d ?? -1),
  };
  return {
    inputShape: [...model.inputs[0]!.shape],
    outputUnits: state.classes,
    weightShapes,
    weightCount: state.weightCount,
    trainableCount: params.length,
    engine: info.description,
    threadId,
  };
}

/** Attaches the run's shared buffers. */
export function attach(buffers: ReplicaBuffers): void {
  current().buffers = buffers;
}

/** This replica's weights, flattened in getWeights() order (a copy). */
export async function weights(): Promise<Float32Array> {
  const s = current();
  const out = new Float32Array(s.weightCount);
  let at = 0;
  for (const w of s.model.getWeights()) {
    out.set(await read(w, s.asyncReads, s.lost), at);
    at += w.size;
  }
  return out;
}

/** Everything another replica needs to become identical to this one. */
export async function exportState(): Promise<ReplicaState> {
  const s = current();
  return { weights: await weights(), optimizerStep: s.optimizer.step, optimizerSlots: s.optimizer.slots.map((a) => a.slice()) };
}

/** Becomes identical to the replica `from` was exported from. */
export function importState(from: ReplicaState): void {
  const s = current();
  if (from.weights.length !== s.weightCount) throw new Error(`state has ${from.weights.length} weights, this model ${s.weightCount}`);
  let at = 0;
  const tensors = s.model.getWeights().map((w) => {
    const t = tf.tensor(from.weights.subarray(at, at + w.size), w.shape, 'float32');
    at += w.size;
    return t;
  });
  s.model.setWeights(tensors);
  tf.dispose(tensors);
  // setWeights went through the engine: take the parameters back from the source, not the engine.
  at = 0;
  s.trainable.forEach((_, i) => {
    s.params.set(from.weights.subarray(s.offsets[i]!, s.offsets[i]! + s.sizes[i]!), at);
    at += s.sizes[i]!;
  });
  if (from.optimizerSlots.length !== s.optimizer.slots.length) throw new Error('optimizer state of another kind of optimizer');
  s.optimizer = { step: from.optimizerStep, slots: from.optimizerSlots.map((a) => a.slice()) };
}

/** Writes the flat parameters into the model's variables. */
function assignParams(s: State): void {
  let at = 0;
  s.trainable.forEach((v, i) => {
    const t = tf.tensor(s.params.subarray(at, at + s.sizes[i]!), v.shape as number[], 'float32');
    (v.read() as tf.Variable).assign(t);
    t.dispose();
    at += s.sizes[i]!;
  });
}

/** Gradient of this replica's share of step `k` into its region; returns the ms it took. */
async function computeGradient(s: State, segment: Segment, k: number, region: Float32Array, size: number): Promise<number> {
  const b = s.buffers!;
  const slot = s.init.slot;
  const slots = b.control.slots;
  const { count, offset } = shareOf(b.control, slot);
  const t0 = performance.now();
  b.stepCount[k * slots + slot] = count;
  if (count === 0) {
    region.fill(0);
    b.stepLoss[k * slots + slot] = 0;
    return 0;
  }
  const { x, y, features, order } = segment;
  // Reused step to step: a fresh megabyte-sized array per step makes GC pauses, which the other
  // replicas then wait for at the barrier. Safe: every engine has copied it (or is done with it)
  // by the time the step's gradients are read.
  if (s.scratch.x.length < count * features) s.scratch = { x: new Float32Array(count * features), y: new Int32Array(count) };
  const xs = s.scratch.x.subarray(0, count * features);
  const ys = s.scratch.y.subarray(0, count);
  const start = k * segment.batchSize + offset;
  for (let e = 0; e < count; e++) {
    const i = order[start + e]!;
    xs.set(x.subarray(i * features, (i + 1) * features), e * features);
    ys[e] = y[i]!;
  }
  const { value, grads } = tf.tidy(() => {
    const input = tf.tensor(xs, [count, ...s.exampleShape], 'float32');
    const oneHot = tf.oneHot(tf.tensor1d(ys, 'int32'), s.classes);
    if (s.dense) {
      const d = denseGradient(s.dense, input, oneHot, size, EPSILON);
      return { value: d.loss, grads: s.dense.order.map((i) => d.grads[i]) };
    }
    const vars = s.trainable.map((v) => v.read() as tf.Variable);
    const named = tf.variableGrads(() => {
      return clippedCrossEntropy(s.model.apply(input, { training: true }) as tf.Tensor, oneHot, size, EPSILON);
    }, vars);
    return { value: named.value, grads: vars.map((v) => named.grads[v.name]) };
  });
  let at = 0;
  for (let i = 0; i < grads.length; i++) {
    const g = grads[i];
    if (g) await readInto(g, region, at, s);
    else region.fill(0, at, at + s.sizes[i]!);
    at += s.sizes[i]!;
  }
  b.stepLoss[k * slots + slot] = (await read(value, s.asyncReads, s.lost))[0]! * size;
  tf.dispose([value, ...grads.filter((g): g is tf.Tensor => g !== undefined)]);
  return performance.now() - t0;
}

/**
 * Steps with the sum of the live replicas' regions of `parity`, in slot order (the same bits
 * everywhere). Returns what was not finite, if anything, and then leaves the model's weights as
 * they were; with `keep` (skipping) the optimizer's state too. Every replica reads the same
 * losses and sums the same gradients, so every replica returns the same.
 */
function applyStep(s: State, parity: number, k: number, keep: boolean): NonFiniteKind | undefined {
  const b = s.buffers!;
  const n = s.params.length;
  const slots = b.control.slots;
  const regions: Float32Array[] = [];
  let loss = 0;
  for (let r = 0; r < slots; r++) {
    if (!isAlive(b.control, r)) continue;
    regions.push(b.grads.subarray((parity * slots + r) * n, (parity * slots + r + 1) * n));
    loss += b.stepLoss[k * slots + r]!;
  }
  if (!Number.isFinite(loss)) return 'loss';
  if (keep) s.saved = saveOptimizer(s, s.saved);
  if (!applyOptimizer(s.init.optimizer, s.optimizer, s.params, regions)) {
    // The rare path: a pass over the gradient says whose fault it was.
    const kind = regions.some((g) => !g.every(Number.isFinite)) ? 'gradient' : 'update';
    if (keep) restoreOptimizer(s, s.saved!);
    return kind;
  }
  assignParams(s);
  return undefined;
}

/** Copies the parameters and the optimizer's state into `into` (reused step to step). */
function saveOptimizer(s: State, into: State['saved']): NonNullable<State['saved']> {
  const out = into ?? { params: new Float32Array(s.params.length), slots: s.optimizer.slots.map((a) => new Float32Array(a.length)), step: 0 };
  out.params.set(s.params);
  s.optimizer.slots.forEach((a, i) => out.slots[i]!.set(a));
  out.step = s.optimizer.step;
  return out;
}

function restoreOptimizer(s: State, from: NonNullable<State['saved']>): void {
  s.params.set(from.params);
  s.optimizer.slots.forEach((a, i) => a.set(from.slots[i]!));
  s.optimizer.step = from.step;
}

/**
 * Runs steps [from, to) of the epoch in lockstep with the other live replicas. Resolves with
 * the first step not applied: `to`, or less if the run was aborted (another replica failed).
 */
export async function runSteps(segment: Segment): Promise<SegmentResult> {
  const s = current();
  const b = s.buffers;
  if (!b) throw new Error('replica has no buffers: call attach() first');
  const n = s.params.length;
  const slots = b.control.slots;
  const examples = segment.order.length;
  const sizeOf = (k: number) => Math.max(0, Math.min(segment.batchSize, examples - k * segment.batchSize));
  const skipped: SegmentResult['skipped'] = [];
  const keep = segment.onNonFinite === 'skip';
  const origin = performance.timeOrigin;
  for (let k = segment.from; k < segment.to; k++) {
    const parity = k & 1;
    const region = b.grads.subarray((parity * slots + s.init.slot) * n, (parity * slots + s.init.slot + 1) * n);
    const at = (k * slots + s.init.slot) * 4;
    b.stepTimes[at] = origin + performance.now();
    const ms = await computeGradient(s, segment, k, region, sizeOf(k));
    b.stepTimes[at + 1] = origin + performance.now();
    if (!arriveAndWait(b.control, s.init.slot, ms, sizeOf(k + 1))) return { completed: k, skipped };
    b.stepTimes[at + 2] = origin + performance.now();
    const kind = applyStep(s, parity, k, keep);
    b.stepTimes[at + 3] = origin + performance.now();
    if (kind === undefined) continue;
    if (!keep) return { completed: k, skipped, nonFinite: { step: k, kind } };
    skipped.push({ step: k, kind });
  }
  return { completed: segment.to, skipped };
}

/** Accuracy (argmax of the output) on rows [from, to) of x/y. */
export async function evaluate(x: Float32Array, y: Int32Array, features: number, from: number, to: number, batch = 512): Promise<number> {
  const s = current();
  let correct = 0;
  for (let a = from; a < to; a += batch) {
    const e = Math.min(to, a + batch);
    const pred = tf.tidy(() => {
      const input = tf.tensor(x.subarray(a * features, e * features), [e - a, ...s.exampleShape], 'float32');
      return tf.argMax(s.model.predict(input) as tf.Tensor, -1);
    });
    const p = await read(pred, s.asyncReads, s.lost);
    pred.dispose();
    for (let k = 0; k < e - a; k++) if (p[k] === y[a + k]) correct++;
  }
  return to > from ? correct / (to - from) : NaN;
}

/** The model as tfjs's `model.save` writes it (topology, weight specs, weight bytes), for checkpoints. */
export async function modelArtifacts(): Promise<tf.io.ModelArtifacts> {
  const s = current();
  let captured: tf.io.ModelArtifacts | undefined;
  await s.model.save(tf.io.withSaveHandler(async (artifacts) => {
    captured = artifacts;
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  return captured!;
}
