/**
 * Data-parallel training on CPU replicas (issue #5). Each replica is a worker thread with its own
 * wasm engine, building the same model from the user's `createModel(config)`. Every step the
 * global batch is split across replicas in proportion to their measured throughput; each writes
 * its share-weighted gradient into shared memory, and every replica sums all regions in the same
 * order and applies the identical optimizer step, so replicas stay bit-identical.
 */
import { availableParallelism } from 'node:os';
import { ArgumentError, Tensor, WorkerPool, type ModuleSpecifier } from '@tandem/core';
import { resolveModelUrl } from './module-url.ts';
import { seededRandom, shuffleInPlace } from '../datasets/random.ts';
import type { LabelledSet } from '../datasets/index.ts';
import type { OptimizerConfig, OptimizerSpec, ReplicaBuffers, ReplicaDescription, ReplicaInit } from './types.ts';

const REPLICA = new URL('./replica.ts', import.meta.url);

/** What {@link train} trains on. */
export interface TrainData {
  train: LabelledSet;
  /** Held-out set for `valAccuracy`; without it, the last `validationFraction` of `train` is held out. */
  validation?: LabelledSet;
  /** If present, `testAccuracy` is measured after training. */
  test?: LabelledSet;
}

/** One epoch of {@link TrainResult.history}. */
export interface EpochRecord {
  epoch: number;
  /** Mean training loss (cross-entropy) over the epoch's examples. */
  loss: number;
  /** Accuracy on the validation set after the epoch (NaN if there is none). */
  valAccuracy: number;
  /** Training examples per second, the whole epoch's wall time (excluding validation). */
  samplesPerSecond: number;
  /** Fraction of the epoch's examples each replica processed. */
  shares: number[];
  seconds: number;
}

export interface EpochContext {
  /** Every replica's weights, flattened in getWeights() order: for checking they are bit-identical. */
  replicaWeights(): Promise<Float32Array[]>;
}

export interface TrainOptions<C = unknown> {
  /** Module exporting `createModel(config)` that returns a tfjs-layers model with softmax outputs. */
  model: ModuleSpecifier;
  config?: C;
  data: TrainData;
  epochs: number;
  batchSize: number;
  /** Number of CPU replicas (worker threads); 'auto' = available parallelism. Default 'auto'. */
  replicas?: number | 'auto';
  /** Default `{ type: 'adam', learningRate: 1e-3 }`. */
  optimizer?: OptimizerSpec;
  /** Starting weights in getWeights() order (e.g. a previous result's `weights`); default: replica 0's initialisation. */
  initialWeights?: Float32Array[];
  /** Seed of the per-epoch shuffle and of the initialisers (Math.random is seeded while createModel runs). Default 0. */
  seed?: number;
  /** Share of `train` held out for validation when `data.validation` is absent. Default 0.1. */
  validationFraction?: number;
  /** tfjs backend inside each replica. Default 'wasm'. */
  backend?: 'wasm' | 'cpu';
  /** Split the batch by measured throughput (default) or always equally. */
  balance?: 'throughput' | 'equal';
  onEpoch?: (record: EpochRecord, context: EpochContext) => void | Promise<void>;
}

export interface TrainResult {
  /** Trained weights in getWeights() order, loadable with `model.setWeights(...)` after shaping. */
  weights: Float32Array[];
  weightShapes: number[][];
  history: EpochRecord[];
  testAccuracy?: number;
}

const OPTIMIZERS = ['sgd', 'momentum', 'adam', 'rmsprop'] as const;
const DEFAULT_LR: Record<OptimizerConfig['type'], number> = { sgd: 0.01, momentum: 0.01, adam: 1e-3, rmsprop: 1e-3 };

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new ArgumentError(name, 'a positive integer', value);
  return value;
}

function normaliseOptimizer(spec: OptimizerSpec | undefined): OptimizerConfig {
  const o = spec === undefined ? { type: 'adam' as const } : typeof spec === 'string' ? { type: spec } : spec;
  if (!o || typeof o !== 'object' || !OPTIMIZERS.includes(o.type)) {
    throw new ArgumentError('optimizer', `one of ${OPTIMIZERS.join(', ')}, or { type, learningRate, ... }`, spec);
  }
  const learningRate = o.learningRate ?? DEFAULT_LR[o.type];
  if (typeof learningRate !== 'number' || !(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new ArgumentError('optimizer.learningRate', 'a positive number', learningRate);
  }
  return { ...o, learningRate };
}

function checkSet(set: unknown, name: string): LabelledSet {
  const s = set as Partial<LabelledSet> | undefined;
  if (!s || !(s.x instanceof Tensor) || !(s.y instanceof Tensor)) throw new ArgumentError(name, '{ x: Tensor, y: Tensor }', set);
  if (s.x.dtype !== 'float32' || s.x.shape.length !== 2) throw new ArgumentError(`${name}.x`, 'a float32 Tensor of shape [n, features]', `${s.x.dtype} [${s.x.shape.join(', ')}]`);
  if (s.y.dtype !== 'int32' || s.y.shape.length !== 1) throw new ArgumentError(`${name}.y`, 'an int32 Tensor of shape [n]', `${s.y.dtype} [${s.y.shape.join(', ')}]`);
  if (s.y.shape[0] !== s.x.shape[0]) throw new ArgumentError(`${name}.y`, `${s.x.shape[0]} labels (one per row of ${name}.x)`, s.y.shape[0]);
  if (!s.x.shared || !s.y.shared) throw new ArgumentError(name, 'tensors on shared memory (Tensor.zeros/Tensor.from)', 'unshared data');
  return s as LabelledSet;
}

function checkLabels(set: LabelledSet, classes: number, name: string): void {
  for (const v of set.y.data) if (!(v >= 0 && v < classes)) throw new ArgumentError(`${name}.y`, `labels in [0, ${classes})`, v);
}

/** Integer shares of `total` proportional to `weights`, largest remainder first; sums to total. */
export function splitProportional(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const ideal = weights.map((w) => (sum > 0 ? (w / sum) * total : total / weights.length));
  const out = ideal.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = ideal.map((v, i) => [v - Math.floor(v), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k]![1]]!++;
  return out;
}

/**
 * Trains `createModel(config)` data-parallel on `replicas` CPU workers.
 *
 * @example
 * ```ts
 * const data = await datasets.mnist();
 * const { weights, history, testAccuracy } = await train({
 *   model: new URL('./mlp.ts', import.meta.url), data, epochs: 2, batchSize: 256, replicas: 2,
 *   optimizer: { type: 'adam', learningRate: 1e-3 },
 * });
 * ```
 */
export async function train<C = unknown>(options: TrainOptions<C>): Promise<TrainResult> {
  if (!options || typeof options !== 'object') throw new ArgumentError('options', 'an object', options);
  if (options.model === undefined || options.model === null || options.model === '') {
    throw new ArgumentError('model', "a URL or path of a module exporting createModel(config), e.g. new URL('./model.ts', import.meta.url)", options.model);
  }
  const modelUrl = resolveModelUrl(options.model);
  const epochs = positiveInteger(options.epochs, 'epochs');
  const batchSize = positiveInteger(options.batchSize, 'batchSize');
  const replicaOption = options.replicas ?? 'auto';
  const replicas = replicaOption === 'auto' ? availableParallelism() : positiveInteger(replicaOption, 'replicas');
  const optimizer = normaliseOptimizer(options.optimizer);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', 'an integer', seed);
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') throw new ArgumentError('backend', "'wasm' or 'cpu'", backend);
  if (options.onEpoch !== undefined && typeof options.onEpoch !== 'function') throw new ArgumentError('onEpoch', 'a function', options.onEpoch);
  const data = options.data;
  if (!data || typeof data !== 'object') throw new ArgumentError('data', '{ train, validation?, test? }', data);
  const trainSet = checkSet(data.train, 'data.train');
  const validation = data.validation === undefined ? undefined : checkSet(data.validation, 'data.validation');
  const test = data.test === undefined ? undefined : checkSet(data.test, 'data.test');
  const features = trainSet.x.shape[1]!;
  for (const [set, name] of [[validation, 'data.validation'], [test, 'data.test']] as const) {
    if (set && set.x.shape[1] !== features) throw new ArgumentError(`${name}.x`, `${features} features per row, like data.train.x`, set.x.shape[1]);
  }
  const fraction = options.validationFraction ?? (validation ? 0 : 0.1);
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction < 1)) throw new ArgumentError('validationFraction', 'a number in [0, 1)', fraction);
  const total = trainSet.y.shape[0]!;
  const held = validation ? 0 : Math.floor(total * fraction);
  const trainCount = total - held;
  if (trainCount < 1) throw new ArgumentError('data.train', 'at least one training example', total);

  const order = new Int32Array(new SharedArrayBuffer(trainCount * 4));
  const pools = Array.from({ length: replicas }, () => new WorkerPool({ workers: 1 }));
  const run = <T>(r: number, name: string, args: unknown[]) => pools[r]!.run<T>(REPLICA, name, args);
  const all = <T>(name: string, args: (r: number) => unknown[]) => Promise.all(pools.map((_, r) => run<T>(r, name, args(r))));
  try {
    await Promise.all(pools.map((p) => p.ready()));
    const described = await all<ReplicaDescription>('init', (replica): [ReplicaInit] => [{
      replica, replicas, modelUrl, config: options.config, optimizer, backend, seed,
      x: trainSet.x.data, y: trainSet.y.data, features, order,
    }]);
    const d = described[0]!;
    if (d.inputShape.length !== 2 || d.inputShape[1] !== features) {
      throw new ArgumentError('data.train.x', `rows of ${JSON.stringify(d.inputShape.slice(1))} features (the model's input)`, features);
    }
    for (const [set, name] of [[trainSet, 'data.train'], [validation, 'data.validation'], [test, 'data.test']] as const) {
      if (set) checkLabels(set, d.outputUnits, name);
    }
    const buffers: ReplicaBuffers = {
      grads: new Float32Array(new SharedArrayBuffer(2 * replicas * d.trainableCount * 4)),
      losses: new Float64Array(new SharedArrayBuffer(2 * replicas * 8)),
      weights: new Float32Array(new SharedArrayBuffer(d.weightCount * 4)),
    };
    if (options.initialWeights !== undefined) {
      const given = options.initialWeights;
      const sizes = d.weightShapes.map((s) => s.reduce((p, n) => p * n, 1));
      if (!Array.isArray(given) || given.length !== sizes.length || given.some((w, i) => !(w instanceof Float32Array) || w.length !== sizes[i])) {
        throw new ArgumentError('initialWeights', `${sizes.length} Float32Arrays of sizes [${sizes.join(', ')}]`, given);
      }
      let at = 0;
      for (const w of given) (buffers.weights.set(w, at), (at += w.length));
      await all('attach', () => [buffers, false]);
    } else {
      await run(0, 'attach', [buffers, true]);
      await Promise.all(pools.slice(1).map((_, k) => run(k + 1, 'attach', [buffers, false])));
    }

    const random = seededRandom(seed);
    const indices = Array.from({ length: trainCount }, (_, i) => i);
    const throughput = new Array<number>(replicas).fill(1);
    const balance = options.balance ?? 'throughput';
    const history: EpochRecord[] = [];
    let parity = 0;
    const context: EpochContext = { replicaWeights: () => all<Float32Array>('weights', () => []) };
    const evaluate = (set: LabelledSet, from: number, to: number) =>
      run<number>(0, 'evaluate', [set.x.data, set.y.data, features, from, to]);

    for (let epoch = 1; epoch <= epochs; epoch++) {
      shuffleInPlace(indices, random);
      order.set(indices);
      const t0 = performance.now();
      let lossSum = 0;
      const processed = new Array<number>(replicas).fill(0);
      for (let start = 0; start < trainCount; start += batchSize) {
        const size = Math.min(batchSize, trainCount - start);
        const counts = balance === 'equal' ? splitProportional(size, throughput.map(() => 1)) : splitProportional(size, throughput);
        const offsets = counts.map((_, r) => counts.slice(0, r).reduce((a, b) => a + b, 0));
        const ms = await all<number>('step', (r) => [parity, start, offsets[r], counts[r], size]);
        for (let r = 0; r < replicas; r++) {
          lossSum += buffers.losses[parity * replicas + r]! * size;
          processed[r]! += counts[r]!;
          if (counts[r]! > 0 && ms[r]! > 0) {
            const rate = counts[r]! / ms[r]!;
            throughput[r] = throughput[r] === 1 && epoch === 1 && start === 0 ? rate : 0.7 * throughput[r]! + 0.3 * rate;
          }
        }
        parity ^= 1;
      }
      await all('apply', () => []);
      const seconds = (performance.now() - t0) / 1000;
      const valAccuracy = validation
        ? await evaluate(validation, 0, validation.y.shape[0]!)
        : held > 0 ? await evaluate(trainSet, trainCount, total) : NaN;
      const record: EpochRecord = {
        epoch, loss: lossSum / trainCount, valAccuracy, samplesPerSecond: trainCount / seconds,
        shares: processed.map((p) => p / trainCount), seconds,
      };
      history.push(record);
      await options.onEpoch?.(record, context);
    }
    const flat = await run<Float32Array>(0, 'weights', []);
    let at = 0;
    const weights = d.weightShapes.map((shape) => {
      const size = shape.reduce((p, n) => p * n, 1);
      const w = flat.slice(at, at + size);
      at += size;
      return w;
    });
    const result: TrainResult = { weights, weightShapes: d.weightShapes, history };
    if (test) result.testAccuracy = await evaluate(test, 0, test.y.shape[0]!);
    return result;
  } finally {
    await Promise.all(pools.map((p) => p.destroy()));
  }
}
