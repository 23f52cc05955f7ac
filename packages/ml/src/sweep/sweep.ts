/**
 * Hyperparameter search (issue #5). Trials run in parallel, one trial per replica slot (each trial
 * is a single-replica {@link train} run on its own worker thread), with random search over a
 * {@link SearchSpace} and optional ASHA early stopping. A trial that throws is reported as failed;
 * the sweep goes on.
 *
 * ASHA here is the asynchronous "stopping" variant (as in Ray Tune's ASHAScheduler): rungs sit at
 * `gracePeriod · reductionFactor^k` epochs below `maxEpochs`. When a trial finishes a rung's epoch
 * it is compared with every trial that has reached that rung so far (itself included); it continues
 * only if it ranks within the top `max(1, floor(n / reductionFactor))`, otherwise it stops there.
 * A trial keeps training in the same `train()` run between rungs (the optimizer state is kept; the
 * decision is taken inside `onEpoch`), so stopping costs nothing and promotion costs nothing.
 * Decisions depend on the order in which trials reach a rung, so with `concurrency > 1` the set of
 * stopped trials can vary between runs; sampled configs and each trial's training are seeded.
 *
 * On a cluster session each trial is a session task on a node (`remote-trial.ts`); a trial at a
 * rung asks this process for the decision and waits for it, so the bookkeeping stays here.
 */
import { availableParallelism } from 'node:os';
import { ArgumentError, TaskModuleError, Tandem, type ModuleSpecifier } from '@tandem/core';
import { sessionInternals } from '@tandem/core/internal/session/internals';
import { seededRandom } from '../datasets/random.ts';
import { train, type EpochRecord, type TrainData } from '../train/index.ts';
import type { OptimizerName, OptimizerSpec, ReplicaEngine } from '../train/types.ts';
import { workersFor } from '../train/devices.ts';
import { requestReplicas } from '../train/placement.ts';
import { freeWorkers } from '../train/replica-set.ts';
import { normaliseOptimizer } from '../train/options.ts';
import { resolveModelUrl } from '../train/module-url.ts';
import { metricFromWire, type RemoteTrialResult, type RemoteTrialSpec, type RungQuestion } from './remote-trial.ts';
import { sampleSpace, validateSpace, type SampledConfig, type SearchSpace } from './space.ts';

/** Metrics a sweep can rank by: an {@link EpochRecord} field. */
export type SweepMetric = 'valAccuracy' | 'loss';

export interface SweepOptions {
  /** Module exporting `createModel(config)`, as for {@link train}. */
  model: ModuleSpecifier;
  data: TrainData;
  /**
   * What to search. `learningRate`, `optimizer` (an optimizer name) and `batchSize` feed
   * {@link train}'s options; every other key goes into the `config` passed to `createModel`.
   */
  space: SearchSpace;
  /** Number of sampled configurations. Default 16. */
  trials?: number;
  /** 'asha' (default): early-stop weak trials at rungs; 'random': every trial trains `maxEpochs`. */
  scheduler?: 'asha' | 'random';
  /** Default 'valAccuracy' (maximised); 'loss' is minimised. */
  metric?: SweepMetric;
  /** 'max' for valAccuracy, 'min' for loss unless given. */
  mode?: 'max' | 'min';
  /** Epochs of a trial that is never stopped. Default 8. */
  maxEpochs?: number;
  /** ASHA: epochs before the first rung. Default 1. */
  gracePeriod?: number;
  /** ASHA: η, rungs are η× apart and the top 1/η continue. Default 3. */
  reductionFactor?: number;
  /**
   * The session whose workers run the trials (each trial's replica on one of them, lent for the
   * trial) and whose devices `devices: 'auto'` means. Without one, the sweep opens a session of
   * its own and closes it. On a cluster session (`Tandem.create({ cluster })`), each trial runs
   * on one of the cluster's nodes instead (nodes must allow `@tandem/ml` and the model's file).
   */
  session?: Tandem;
  /** Trials at once, each on its own worker (a wasm or `backend` replica). Default: the session's free workers (available parallelism without a session; on a cluster, the nodes' workers). Ignored with `devices`. */
  concurrency?: number;
  /**
   * The trial slots, one trial at a time on each: a list of engines (e.g. `['wasm', 'wasm',
   * 'webgpu']`) or 'auto' (as train's `replicas: 'auto'`). Default: `concurrency` wasm slots.
   */
  devices?: 'auto' | ReplicaEngine[];
  /** Batch size when the space has none. Default 128. */
  batchSize?: number;
  /** Optimizer when the space has no `optimizer`; a space `learningRate` overrides its learning rate. Default 'adam'. */
  optimizer?: OptimizerSpec;
  /** Fixed config merged under each trial's sampled (non-train) keys. */
  config?: Record<string, unknown>;
  /** Seeds config sampling and every trial's training (same shuffle/initialisation seed for all trials). Default 0. */
  seed?: number;
  /** tfjs backend inside each trial's replica. Default 'wasm'. */
  backend?: 'wasm' | 'cpu';
  /** Called as each trial ends (completed, stopped or failed). */
  onTrial?: (trial: TrialResult) => void;
  /** Stops every running trial at its next step and rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface TrialResult {
  id: number;
  /** The sampled point (all space keys, including those fed to train's options). */
  config: SampledConfig;
  status: 'completed' | 'stopped' | 'failed';
  /** The engine of the slot it ran on. */
  device: ReplicaEngine;
  /** Epochs trained. */
  epochs: number;
  /** The metric after the last trained epoch (NaN if the trial failed before one). */
  metric: number;
  history: EpochRecord[];
  /** Why a failed trial failed: e.g. a `NonFiniteError` (its training went NaN), or a replica's error. */
  error?: unknown;
  /** The cluster node that trained it, on a cluster session. */
  node?: string;
}

export interface SweepResult {
  /** Best first (failed trials last, in id order). */
  trials: TrialResult[];
  /** The best non-failed trial; undefined if every trial failed. */
  best?: { id: number; config: SampledConfig; metric: number };
  /** Sum of epochs trained over all trials. */
  totalEpochs: number;
  seconds: number;
}

const TRAIN_KEYS = new Set(['learningRate', 'optimizer', 'batchSize']);
/** The session task a cluster node runs for each trial (nodes must allow `@tandem/ml`). */
const REMOTE_TRIAL_MODULE = '@tandem/ml/remote-trial';

class StopTrial extends Error {}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new ArgumentError(name, 'a positive integer', value);
  return value;
}

/**
 * Rung epochs below maxEpochs: grace, grace·η, grace·η², …
 *
 * @example
 * ```ts
 * ashaRungs(1, 3, 27); // [1, 3, 9]
 * ```
 */
export function ashaRungs(gracePeriod: number, reductionFactor: number, maxEpochs: number): number[] {
  const rungs: number[] = [];
  for (let r = gracePeriod; r < maxEpochs; r *= reductionFactor) rungs.push(r);
  return rungs;
}

/**
 * Random search with optional ASHA early stopping.
 *
 * @example
 * ```ts
 * const { best, trials } = await sweep({
 *   model: new URL('./mlp.ts', import.meta.url), data, trials: 16, scheduler: 'asha', metric: 'valAccuracy',
 *   space: { learningRate: { log: [1e-4, 1e-2] }, hidden: [64, 128, 256] },
 * });
 * ```
 */
export async function sweep(options: SweepOptions): Promise<SweepResult> {
  if (!options || typeof options !== 'object') throw new ArgumentError('options', 'an object', options);
  if (options.model === undefined || options.model === null || options.model === '') {
    throw new ArgumentError('model', 'a URL or path of a module exporting createModel(config)', options.model);
  }
  if (!options.data || typeof options.data !== 'object') throw new ArgumentError('data', '{ train, validation?, test? }', options.data);
  validateSpace(options.space, 'space');
  const trials = positiveInteger(options.trials ?? 16, 'trials');
  const scheduler = options.scheduler ?? 'asha';
  if (scheduler !== 'asha' && scheduler !== 'random') throw new ArgumentError('scheduler', "'asha' or 'random'", scheduler);
  const metric = options.metric ?? 'valAccuracy';
  if (metric !== 'valAccuracy' && metric !== 'loss') throw new ArgumentError('metric', "'valAccuracy' or 'loss'", metric);
  const mode = options.mode ?? (metric === 'loss' ? 'min' : 'max');
  if (mode !== 'max' && mode !== 'min') throw new ArgumentError('mode', "'max' or 'min'", mode);
  const maxEpochs = positiveInteger(options.maxEpochs ?? 8, 'maxEpochs');
  const gracePeriod = positiveInteger(options.gracePeriod ?? 1, 'gracePeriod');
  const reductionFactor = options.reductionFactor ?? 3;
  if (typeof reductionFactor !== 'number' || !Number.isFinite(reductionFactor) || !(reductionFactor > 1)) {
    throw new ArgumentError('reductionFactor', 'a number > 1', reductionFactor);
  }
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') throw new ArgumentError('backend', "'wasm' or 'cpu'", backend);
  if (options.devices !== undefined && (typeof options.devices === 'number' || !(options.devices === 'auto' || Array.isArray(options.devices)))) {
    throw new ArgumentError('devices', "'auto' or a list of engines", options.devices);
  }
  if (options.concurrency !== undefined) positiveInteger(options.concurrency, 'concurrency');
  if (options.session !== undefined) sessionInternals(options.session);
  const own = options.session === undefined ? await openSession(options) : undefined;
  try {
    return await sweepOn(own ?? options.session!, options, { trials, scheduler, metric, mode, maxEpochs, gracePeriod, reductionFactor, backend });
  } finally {
    await own?.destroy();
  }
}

/** A session of its own for a sweep given none: a worker per trial slot; under `devices: 'auto'` every backend that opens here. */
async function openSession(options: SweepOptions): Promise<Tandem> {
  const auto = options.devices === 'auto';
  if (auto) await import('@tandem/backends');
  const workers = options.devices !== undefined ? workersFor(options.devices, availableParallelism()) : options.concurrency ?? availableParallelism();
  return Tandem.create({ workers, ...(auto ? {} : { backends: [] }) });
}

interface Checked {
  trials: number;
  scheduler: 'asha' | 'random';
  metric: SweepMetric;
  mode: 'max' | 'min';
  maxEpochs: number;
  gracePeriod: number;
  reductionFactor: number;
  backend: 'wasm' | 'cpu';
}

async function sweepOn(td: Tandem, options: SweepOptions, checked: Checked): Promise<SweepResult> {
  const { trials, scheduler, metric, mode, maxEpochs, gracePeriod, reductionFactor, backend } = checked;
  const session = sessionInternals(td);
  const cluster = session.cluster();
  let slots: ReplicaEngine[];
  if (cluster) {
    // Trials are cluster jobs: as many at once as the nodes have workers (a node runs one per worker).
    if (options.devices !== undefined) throw new ArgumentError('devices', "nothing on a cluster session: each trial runs on a node's own workers (choose their engine with backend)", options.devices);
    const workers = (await cluster.liveNodes()).reduce((n, node) => n + node.workers, 0);
    slots = new Array(options.concurrency ?? Math.max(1, workers)).fill(backend);
  } else if (options.devices !== undefined) {
    const free = freeWorkers(session.pool);
    slots = requestReplicas(options.devices, backend, session, 0, 'devices').engines;
    if (Array.isArray(options.devices) && slots.filter((e) => e !== 'tensorflow').length > free) {
      throw new ArgumentError('devices', `at most ${free} engines besides a tensorflow one: one per free worker of the session`, options.devices);
    }
  } else {
    const free = freeWorkers(session.pool);
    const concurrency = options.concurrency ?? free;
    if (concurrency > free) throw new ArgumentError('concurrency', `at most ${free}: one trial per free worker of the session`, concurrency);
    slots = new Array(concurrency).fill(backend);
  }
  const concurrency = Math.min(trials, slots.length);
  const batchSize = positiveInteger(options.batchSize ?? 128, 'batchSize');
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', 'an integer', seed);
  if (options.config !== undefined && (!options.config || typeof options.config !== 'object')) throw new ArgumentError('config', 'an object', options.config);
  if (options.onTrial !== undefined && typeof options.onTrial !== 'function') throw new ArgumentError('onTrial', 'a function', options.onTrial);

  const baseOptimizer = normaliseOptimizer(options.optimizer ?? 'adam');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new ArgumentError('signal', 'an AbortSignal', options.signal);
  options.signal?.throwIfAborted();
  const random = seededRandom(seed);
  const configs = Array.from({ length: trials }, () => sampleSpace(options.space, random));
  const rungs = scheduler === 'asha' ? ashaRungs(gracePeriod, reductionFactor, maxEpochs) : [];
  /** rung epoch → metrics of the trials that reached it. */
  const reached = new Map<number, number[]>(rungs.map((r) => [r, []]));
  const better = (a: number, b: number) => (mode === 'max' ? a > b : a < b);

  /** ASHA decision for a trial that just finished epoch `epoch` with metric `value`. */
  const continues = (epoch: number, value: number): boolean => {
    const seen = reached.get(epoch);
    if (!seen) return true;
    seen.push(value);
    if (Number.isNaN(value)) return false;
    const ahead = seen.filter((v) => !Number.isNaN(v) && better(v, value)).length;
    return ahead < Math.max(1, Math.floor(seen.length / reductionFactor));
  };

  /** What trial `id` trains with: its model config and train() options. */
  const trialSetup = (id: number) => {
    const config = configs[id]!;
    const modelConfig: Record<string, unknown> = { ...options.config };
    for (const [k, v] of Object.entries(config)) if (!TRAIN_KEYS.has(k)) modelConfig[k] = v;
    // The base optimizer, then the sampled type and learning rate on top of it.
    const optimizer: OptimizerSpec = {
      ...baseOptimizer,
      ...('optimizer' in config ? { type: config.optimizer as OptimizerName, learningRate: (options.optimizer as { learningRate?: number } | undefined)?.learningRate } : {}),
      ...('learningRate' in config ? { learningRate: config.learningRate as number } : {}),
    };
    return { modelConfig, optimizer, batchSize: 'batchSize' in config ? (config.batchSize as number) : batchSize };
  };

  const resultOf = (id: number, engine: ReplicaEngine, history: EpochRecord[], status: TrialResult['status'], error?: unknown): TrialResult => {
    const last = history[history.length - 1];
    const out: TrialResult = { id, config: configs[id]!, status, device: engine, epochs: history.length, metric: last ? last[metric] : NaN, history };
    if (status === 'failed') out.error = error;
    return out;
  };

  const runLocal = async (id: number, engine: ReplicaEngine): Promise<TrialResult> => {
    const history: EpochRecord[] = [];
    try {
      const { modelConfig, optimizer, batchSize: trialBatch } = trialSetup(id);
      await train({
        model: options.model, data: options.data, config: modelConfig, epochs: maxEpochs, batchSize: trialBatch,
        replicas: [engine], optimizer, seed, session: td, ...(options.signal ? { signal: options.signal } : {}),
        onEpoch: (record) => {
          history.push(record);
          if (record.epoch < maxEpochs && !continues(record.epoch, record[metric])) throw new StopTrial();
        },
      });
      return resultOf(id, engine, history, 'completed');
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      // Every trial builds the same model module: one that is wrong fails the sweep, at once.
      if (error instanceof ArgumentError && error.argument === 'model') throw error;
      return error instanceof StopTrial ? resultOf(id, engine, history, 'stopped') : resultOf(id, engine, history, 'failed', error);
    }
  };

  const modelUrl = cluster ? resolveModelUrl(options.model) : '';
  const runRemote = async (id: number, engine: ReplicaEngine): Promise<TrialResult> => {
    const { modelConfig, optimizer, batchSize: trialBatch } = trialSetup(id);
    const spec: RemoteTrialSpec = {
      model: modelUrl, data: options.data, config: modelConfig, epochs: maxEpochs, batchSize: trialBatch, optimizer, seed, engine, metric, rungs,
    };
    let out: RemoteTrialResult;
    try {
      out = await cluster!.runSessionTask<RemoteTrialResult>(REMOTE_TRIAL_MODULE, 'runTrial', [spec], {
        ...(options.signal ? { signal: options.signal } : {}),
        onAsk: (q) => continues((q as RungQuestion).epoch, metricFromWire((q as RungQuestion).metric)),
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      // The node refused the trial module or the model (not on its --allow list): every trial would.
      if (error instanceof TaskModuleError) throw error;
      return resultOf(id, engine, [], 'failed', error);
    }
    if (out.status === 'failed' && out.error instanceof ArgumentError && out.error.argument === 'model') throw out.error;
    return { ...resultOf(id, engine, out.history, out.status, out.error), node: out.node };
  };
  const runTrial = cluster ? runRemote : runLocal;

  const t0 = performance.now();
  const results: TrialResult[] = [];
  let next = 0;
  let broke = false;
  // Settled, not raced: on an abort every trial's workers are gone before the sweep rejects.
  const slotRuns = await Promise.allSettled(Array.from({ length: concurrency }, async (_, slot) => {
    while (next < trials && !options.signal?.aborted && !broke) {
      const trial = await runTrial(next++, slots[slot]!).catch((error: unknown) => {
        broke = true;
        throw error;
      });
      results.push(trial);
      options.onTrial?.(trial);
    }
  }));
  const broken = slotRuns.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (broken) throw broken.reason;

  const rank = (t: TrialResult) => (t.status === 'failed' || Number.isNaN(t.metric) ? 1 : 0);
  results.sort((a, b) => rank(a) - rank(b) || (rank(a) === 0 && a.metric !== b.metric ? (better(a.metric, b.metric) ? -1 : 1) : 0) || b.epochs - a.epochs || a.id - b.id);
  const top = results[0];
  const out: SweepResult = {
    trials: results,
    totalEpochs: results.reduce((s, t) => s + t.epochs, 0),
    seconds: (performance.now() - t0) / 1000,
  };
  if (top && rank(top) === 0) out.best = { id: top.id, config: top.config, metric: top.metric };
  return out;
}

/**
 * The result as a fixed-width text table (one row per trial, best first).
 *
 * @example
 * ```ts
 * console.log(formatSweep(await sweep({ model, data, space: { hidden: [64, 128] } })));
 * ```
 */
export function formatSweep(result: SweepResult): string {
  const keys = [...new Set(result.trials.flatMap((t) => Object.keys(t.config)))];
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v));
  const rows = [['trial', ...keys, 'status', 'epochs', 'metric'], ...result.trials.map((t) => [
    String(t.id), ...keys.map((k) => cell(t.config[k])), t.status, String(t.epochs), Number.isNaN(t.metric) ? '-' : t.metric.toFixed(4),
  ])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}
