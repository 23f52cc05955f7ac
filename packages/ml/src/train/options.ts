/** Checks {@link train}'s options and puts them in the form the trainer uses; bad input is an ArgumentError naming the option. */
import { ArgumentError, Tensor } from '@tandem/core';
import type { LabelledSet } from '../datasets/index.ts';
import { resolveModelUrl } from './module-url.ts';
import type { TrainOptions } from './records.ts';
import type { OptimizerConfig, OptimizerSpec } from './types.ts';

const OPTIMIZERS = ['sgd', 'momentum', 'adam', 'rmsprop'] as const;
const DEFAULT_LR: Record<OptimizerConfig['type'], number> = { sgd: 0.01, momentum: 0.01, adam: 1e-3, rmsprop: 1e-3 };

export function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new ArgumentError(name, 'a positive integer', value);
  return value;
}

export function normaliseOptimizer(spec: OptimizerSpec | undefined): OptimizerConfig {
  const given = spec === undefined ? { type: 'adam' as const } : typeof spec === 'string' ? { type: spec } : spec;
  if (!given || typeof given !== 'object') throw new ArgumentError('optimizer', `one of ${OPTIMIZERS.join(', ')}, or { type, learningRate, ... }`, spec);
  const { name, type, ...fields } = given as { name?: OptimizerConfig['type']; type?: OptimizerConfig['type'] };
  if (name !== undefined && type !== undefined && name !== type) throw new ArgumentError('optimizer', 'one of type or name (they are the same thing)', spec);
  const o = { ...fields, type: (type ?? name)! } as OptimizerConfig;
  if (!OPTIMIZERS.includes(o.type)) {
    throw new ArgumentError('optimizer', `one of ${OPTIMIZERS.join(', ')}, or { type, learningRate, ... }`, spec);
  }
  const learningRate = o.learningRate ?? DEFAULT_LR[o.type];
  if (typeof learningRate !== 'number' || !(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new ArgumentError('optimizer.learningRate', 'a positive number', learningRate);
  }
  return { ...o, learningRate };
}

/** @param epoch For a pipeline's later epochs: which one, to say where a bad value is. */
export function checkSet(set: unknown, name: string, epoch?: number): LabelledSet {
  const s = set as Partial<LabelledSet> | undefined;
  if (!s || !(s.x instanceof Tensor) || !(s.y instanceof Tensor)) throw new ArgumentError(name, '{ x: Tensor, y: Tensor }', set);
  if (s.x.dtype !== 'float32' || s.x.shape.length !== 2) throw new ArgumentError(`${name}.x`, 'a float32 Tensor of shape [n, features]', `${s.x.dtype} [${s.x.shape.join(', ')}]`);
  if (s.y.dtype !== 'int32' || s.y.shape.length !== 1) throw new ArgumentError(`${name}.y`, 'an int32 Tensor of shape [n]', `${s.y.dtype} [${s.y.shape.join(', ')}]`);
  if (s.y.shape[0] !== s.x.shape[0]) throw new ArgumentError(`${name}.y`, `${s.x.shape[0]} labels (one per row of ${name}.x)`, s.y.shape[0]);
  if (!s.x.shared || !s.y.shared) throw new ArgumentError(name, 'tensors on shared memory (Tensor.zeros/Tensor.from)', 'unshared data');
  checkFinite(s.x as Tensor<'float32'>, `${name}.x`, epoch === undefined ? '' : ` of the pipeline's epoch ${epoch}`);
  return s as LabelledSet;
}

/** One NaN or ±Infinity in the examples would make every weight NaN: refused here, with where it is. */
function checkFinite(x: Tensor<'float32'>, name: string, where: string): void {
  const data = x.data;
  // `v * 0` is 0 for every finite v: one multiply-add a value, and the search only on failure.
  let z = 0;
  for (let i = 0; i < data.length; i++) z += data[i]! * 0;
  if (z === 0) return;
  const at = data.findIndex((v) => !Number.isFinite(v));
  const features = x.shape[1]!;
  throw new ArgumentError(name, `finite values (row ${Math.floor(at / features)}, column ${at % features}${where} is not)`, data[at]);
}

export function checkResumeFrom(value: unknown): string | undefined {
  if (value !== undefined && (typeof value !== 'string' || value === '')) throw new ArgumentError('resumeFrom', 'a checkpoint directory path', value);
  return value;
}

export function checkLabels(set: LabelledSet, classes: number, name: string): void {
  for (const v of set.y.data) if (!(v >= 0 && v < classes)) throw new ArgumentError(`${name}.y`, `labels in [0, ${classes})`, v);
}

/** The options, checked, with their defaults. */
export interface Checked {
  modelUrl: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  seed: number;
  backend: 'wasm' | 'cpu';
  balance: 'throughput' | 'equal';
  onFailure: 'replace' | 'drop';
  trainSet: LabelledSet;
  validation: LabelledSet | undefined;
  test: LabelledSet | undefined;
  features: number;
  /** Rows of `trainSet` trained on; the rest (up to `total`) are the held-out validation rows. */
  trainCount: number;
  total: number;
  checkpointEvery: number | undefined;
  stepTimeoutMs: number | undefined;
  onNonFinite: 'error' | 'skip';
}

/**
 * @param firstSet When `data.train` is a pipeline: its first epoch, checked in its place. A
 * pipeline's epochs differ, so no rows of it can be held out for validation.
 */
export function checkOptions(options: TrainOptions<unknown>, firstSet?: LabelledSet): Checked {
  if (!options || typeof options !== 'object') throw new ArgumentError('options', 'an object', options);
  if (options.model === undefined || options.model === null || options.model === '') {
    throw new ArgumentError('model', "a URL or path of a module exporting createModel(config), e.g. new URL('./model.ts', import.meta.url)", options.model);
  }
  const modelUrl = resolveModelUrl(options.model);
  const epochs = positiveInteger(options.epochs, 'epochs');
  const batchSize = positiveInteger(options.batchSize, 'batchSize');
  const optimizer = normaliseOptimizer(options.optimizer);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', 'an integer', seed);
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') throw new ArgumentError('backend', "'wasm' or 'cpu'", backend);
  const balance = options.balance ?? 'throughput';
  if (balance !== 'throughput' && balance !== 'equal') throw new ArgumentError('balance', "'throughput' or 'equal'", balance);
  const onFailure = options.onReplicaFailure ?? 'replace';
  if (onFailure !== 'replace' && onFailure !== 'drop') throw new ArgumentError('onReplicaFailure', "'replace' or 'drop'", onFailure);
  for (const name of ['onEpoch', 'onStep', 'onFailure'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new ArgumentError(name, 'a function', options[name]);
  }
  const stepTimeoutMs = options.stepTimeoutMs;
  if (stepTimeoutMs !== undefined && !(typeof stepTimeoutMs === 'number' && stepTimeoutMs > 0 && Number.isFinite(stepTimeoutMs))) {
    throw new ArgumentError('stepTimeoutMs', 'a positive number of milliseconds', stepTimeoutMs);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new ArgumentError('signal', 'an AbortSignal', options.signal);
  const onNonFinite = options.onNonFinite ?? 'error';
  if (onNonFinite !== 'error' && onNonFinite !== 'skip') throw new ArgumentError('onNonFinite', "'error' or 'skip'", onNonFinite);
  const data = options.data;
  if (!data || typeof data !== 'object') throw new ArgumentError('data', '{ train, validation?, test? }', data);
  const trainSet = checkSet(firstSet ?? data.train, 'data.train');
  const validation = data.validation === undefined ? undefined : checkSet(data.validation, 'data.validation');
  const test = data.test === undefined ? undefined : checkSet(data.test, 'data.test');
  const features = trainSet.x.shape[1]!;
  for (const [set, name] of [[validation, 'data.validation'], [test, 'data.test']] as const) {
    if (set && set.x.shape[1] !== features) throw new ArgumentError(`${name}.x`, `${features} features per row, like data.train.x`, set.x.shape[1]);
  }
  const fraction = options.validationFraction ?? (validation || firstSet ? 0 : 0.1);
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction < 1)) throw new ArgumentError('validationFraction', 'a number in [0, 1)', fraction);
  if (firstSet && fraction > 0) throw new ArgumentError('validationFraction', '0 when data.train is a pipeline (pass data.validation instead)', fraction);
  const total = trainSet.y.shape[0]!;
  const trainCount = total - (validation ? 0 : Math.floor(total * fraction));
  if (trainCount < 1) throw new ArgumentError('data.train', 'at least one training example', total);
  let checkpointEvery: number | undefined;
  if (options.checkpoint !== undefined) {
    const c = options.checkpoint;
    if (!c || typeof c !== 'object' || typeof c.directory !== 'string' || c.directory === '') {
      throw new ArgumentError('checkpoint', '{ directory: string, everySteps?: number }', c);
    }
    if (c.everySteps !== undefined) checkpointEvery = positiveInteger(c.everySteps, 'checkpoint.everySteps');
  }
  return {
    modelUrl, epochs, batchSize, optimizer, seed, backend, balance, onFailure,
    trainSet, validation, test, features, trainCount, total, checkpointEvery, stepTimeoutMs, onNonFinite,
  };
}
