/**
 * Data-parallel training (issue #5). Each replica is a worker of the session (lent to the run)
 * with its own tfjs engine, building the same model from the user's `createModel(config)`; the
 * session's planner places the replicas and seeds their shares from what it learned before. The replicas run each epoch's
 * steps themselves and meet at a barrier on shared memory every step: each computes the gradient
 * of its share of the global batch (split by measured throughput), and every replica sums all
 * shares' gradients in the same order and applies the identical optimizer step, so replicas stay
 * bit-identical. The main thread only starts runs of steps, watches the step clock for `onStep`,
 * writes checkpoints between runs, and replaces or drops a replica that fails.
 */
import { availableParallelism } from 'node:os';
import { ArgumentError, Tandem, type Tensor } from '@tandem/core';
import { sessionInternals, type SessionInternals } from '@tandem/core/internal/session/internals';
import { seededRandom, shuffleInPlace } from '../datasets/random.ts';
import type { LabelledSet } from '../datasets/index.ts';
import { checkCheckpointDirectory, loadCheckpoint, saveCheckpoint, type Checkpoint } from './checkpoint.ts';
import { abort, createControl, markDead, planShares, seedThroughput } from './control.ts';
import { tfjsNodeInstalled, workersFor } from './devices.ts';
import { placeReplicas, requestReplicas } from './placement.ts';
import { StepTrace } from './step-trace.ts';
import { NonFiniteError, type NonFiniteKind, type NonFiniteStep } from './errors.ts';
import { checkLabels, checkOptions, checkResumeFrom, checkSet } from './options.ts';
import { Pipeline } from '../pipeline/index.ts';
import type { EpochContext, EpochRecord, ReplicaFailure, TrainOptions, TrainResult } from './records.ts';
import { ReplicaSet, freeWorkers, type RecoveryPolicy } from './replica-set.ts';
import { StepLedger } from './step-ledger.ts';
import { watchSteps } from './step-watch.ts';
import type { ReplicaBuffers, ReplicaDescription, ReplicaState } from './types.ts';

/**
 * A session of its own, for a train() given none: as many workers as the replicas need, and under
 * 'auto' every backend that opens here, so that the devices are the session's to report.
 */
async function openSession(replicas: unknown): Promise<Tandem> {
  const auto = replicas === 'auto' || replicas === undefined;
  // Registers Tandem's backends, so that the session sees the GPUs.
  if (auto) await import('@tandem/backends');
  const workers = auto && tfjsNodeInstalled() ? 1 : workersFor(replicas, availableParallelism());
  return Tandem.create({ workers, ...(auto ? {} : { backends: [] }) });
}

/** A slot that failed this many times is dropped instead of replaced: its failure is not transient. */
const MAX_REPLACEMENTS_PER_SLOT = 3;

const shared = <T extends Int32Array | Float32Array | Float64Array>(Kind: new (b: SharedArrayBuffer) => T, length: number, bytes: number): T =>
  new Kind(new SharedArrayBuffer(length * bytes));

function flatten(weights: Float32Array[] | undefined, shapes: number[][], argument: string): Float32Array {
  const sizes = shapes.map((s) => s.reduce((p, n) => p * n, 1));
  if (!Array.isArray(weights) || weights.length !== sizes.length || weights.some((w, i) => !(w instanceof Float32Array) || w.length !== sizes[i])) {
    throw new ArgumentError(argument, `${sizes.length} Float32Arrays of sizes [${sizes.join(', ')}]`, weights);
  }
  const flat = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const w of weights) (flat.set(w, at), (at += w.length));
  return flat;
}

function checkModelFits(d: ReplicaDescription, features: number): void {
  const rest = d.inputShape.slice(1);
  const perExample = rest.reduce<number>((p, n) => p * (n ?? NaN), 1);
  if (!(perExample === features)) {
    throw new ArgumentError('data.train.x', `rows of ${Number.isNaN(perExample) ? 'a fixed number of' : perExample} features (the model's input shape [${rest.join(', ')}])`, features);
  }
}

function checkResume(c: Checkpoint, expected: { batchSize: number; trainCount: number; seed: number; optimizer: string; weights: number }): void {
  const p = c.progress;
  const mismatch = (what: string, was: unknown, now: unknown) => new ArgumentError('resumeFrom', `a checkpoint of the same run (${what} ${now})`, `${what} ${was}`);
  if (p.batchSize !== expected.batchSize) throw mismatch('batchSize', p.batchSize, expected.batchSize);
  if (p.trainCount !== expected.trainCount) throw mismatch('training examples', p.trainCount, expected.trainCount);
  if (p.seed !== expected.seed) throw mismatch('seed', p.seed, expected.seed);
  if (p.optimizer !== expected.optimizer) throw mismatch('optimizer', p.optimizer, expected.optimizer);
  if (c.weights.length !== expected.weights) throw mismatch('weights', c.weights.length, expected.weights);
}

/**
 * Trains `createModel(config)` data-parallel on one replica per device (CPU workers, GPUs).
 *
 * @example
 * ```ts
 * const data = await datasets.mnist();
 * const { weights, history, testAccuracy } = await train({
 *   model: new URL('./mlp.ts', import.meta.url), data, epochs: 2, batchSize: 256, replicas: 2,
 *   optimizer: { type: 'adam', learningRate: 1e-3 },
 *   onStep: (s) => process.stdout.write(`\rstep ${s.step}/${s.steps} loss ${s.loss.toFixed(3)}`),
 *   checkpoint: { directory: './checkpoints', everySteps: 50 },
 * });
 * ```
 */
export async function train<C = unknown>(options: TrainOptions<C>): Promise<TrainResult> {
  const resumeFrom = checkResumeFrom(options?.resumeFrom);
  const resume = resumeFrom === undefined ? undefined : await loadCheckpoint(resumeFrom);
  const firstEpoch = resume ? resume.progress.epoch : 1;
  const source = options?.data?.train instanceof Pipeline ? options.data.train : undefined;
  const firstSet = source ? await source.materialize(firstEpoch) : undefined;
  const o = checkOptions(options as TrainOptions<unknown>, firstSet);
  if (options.checkpoint) await checkCheckpointDirectory(options.checkpoint.directory);
  const signal = options.signal;
  if (options.session !== undefined) sessionInternals(options.session);
  signal?.throwIfAborted();
  const own = options.session === undefined ? await openSession(options.replicas) : undefined;
  try {
    return await trainOn(sessionInternals(own ?? options.session), options, o, resume, source, firstEpoch);
  } finally {
    // Nothing of the run is left on its workers: destroy() ends them without waiting.
    await own?.destroy();
  }
}

async function trainOn<C>(session: SessionInternals, options: TrainOptions<C>, o: ReturnType<typeof checkOptions>, resume: Checkpoint | undefined,
  source: Pipeline | undefined, firstEpoch: number): Promise<TrainResult> {
  const signal = options.signal;
  // A pipeline mapping on this session's workers needs one of them while the replicas train, or
  // the next epoch would wait for workers that wait for it.
  const reserve = source?.sessionPool() === session.pool ? 1 : 0;
  const request = requestReplicas(options.replicas, o.backend, session, reserve);
  const engines = request.engines;
  const free = freeWorkers(session.pool) - reserve;
  if (reserve > 0 && engines.filter((e) => e !== 'tensorflow').length > free) {
    throw new ArgumentError('replicas', `at most ${free} replica${free === 1 ? '' : 's'}: data.train's pipeline maps on this session's workers and needs one of them`, options.replicas);
  }
  const slots = engines.length;
  let stopListening = () => {};
  /** The abort's ending of the replicas' workers: awaited before the lease goes back, so the next
   *  lease of those slots gets fresh workers, not ones still exiting (its first task would die with them). */
  let ending: Promise<void> | undefined;
  const set = new ReplicaSet(engines, (slot) => ({
    slot, modelUrl: o.modelUrl, config: options.config, optimizer: o.optimizer, engine: engines[slot]!, seed: o.seed,
  }), session.pool);
  try {
    const described = await set.start();
    const { signature, plan, idle } = await placeReplicas(request, set, described, o.backend, o.batchSize, session);
    const d = described[0]!;
    checkModelFits(d, o.features);
    for (const [s, name] of [[o.trainSet, 'data.train'], [o.validation, 'data.validation'], [o.test, 'data.test']] as const) {
      if (s) checkLabels(s, d.outputUnits, name);
    }
    const steps = Math.ceil(o.trainCount / o.batchSize);
    const sizeOf = (k: number) => Math.min(o.batchSize, o.trainCount - k * o.batchSize);
    const buffers: ReplicaBuffers = {
      control: createControl(slots, o.balance),
      grads: shared(Float32Array, 2 * slots * d.trainableCount, 4),
      stepLoss: shared(Float64Array, steps * slots, 8),
      stepCount: shared(Int32Array, steps * slots, 4),
      stepTimes: shared(Float64Array, steps * slots * 4, 8),
    };
    for (const s of idle) markDead(buffers.control, s);
    if (o.balance === 'throughput') for (const r of plan.replicas) seedThroughput(buffers.control, r.candidate, r.throughput ?? 0);
    const run = session.recorder.beginTraining({
      signature, batchSize: o.batchSize, excluded: request.excluded,
      replicas: engines.map((engine, slot) => {
        const placed = plan.replicas.find((r) => r.candidate === slot);
        return {
          slot, engine, device: request.devices[slot]!.id, worker: set.workerOf(slot), plannedShare: placed?.share ?? 0,
          predictedStepMs: placed?.predictedStepMs, steps: 0, examples: 0, computeMs: 0, waitMs: 0, allreduceMs: 0,
        };
      }),
    });
    const trace = new StepTrace(session, buffers, run, signature, engines, request.devices.map((dev) => dev.id));
    let start: ReplicaState | undefined;
    if (resume) {
      checkResume(resume, { batchSize: o.batchSize, trainCount: o.trainCount, seed: o.seed, optimizer: o.optimizer.type, weights: d.weightCount });
      start = { weights: resume.weights, optimizerStep: resume.optimizerStep, optimizerSlots: resume.optimizerSlots };
    } else if (options.initialWeights !== undefined) {
      const base = await set.call<ReplicaState>(0, 'exportState');
      start = { ...base, weights: flatten(options.initialWeights, d.weightShapes, 'initialWeights') };
    }
    await set.attach(buffers, start);
    const ledger = new StepLedger(buffers, slots);
    // Aborting stops the replicas now: the flag releases those at the barrier, and their workers
    // end, so that one stuck inside a step can't hold the abort up.
    const onAbort = () => {
      abort(buffers.control);
      ending = set.endAll();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stopListening = () => signal?.removeEventListener('abort', onAbort);

    const order = shared(Int32Array, o.trainCount, 4);
    const random = seededRandom(o.seed);
    const indices = Array.from({ length: o.trainCount }, (_, i) => i);
    const history: EpochRecord[] = resume ? [...resume.progress.history] : [];
    const skippedSteps: NonFiniteStep[] = resume ? [...(resume.progress.skippedSteps ?? [])] : [];
    const failures: ReplicaFailure[] = [];
    const replacements = new Array<number>(slots).fill(0);
    // The shuffle is one seeded stream: replay the epochs a checkpoint already trained.
    for (let e = 1; e < firstEpoch; e++) shuffleInPlace(indices, random);
    const live = () => set.live();
    const evaluate = (s: LabelledSet, from: number, to: number) =>
      set.call<number>(live()[0]!, 'evaluate', [s.x.data, s.y.data, o.features, from, to]);
    const context: EpochContext = { replicaWeights: () => Promise.all(live().map((slot) => set.call<Float32Array>(slot, 'weights'))) };
    const save = async (epoch: number, step: number, partial: Checkpoint['progress']['partial']) => {
      const slot = live()[0]!;
      const [artifacts, state] = await Promise.all([set.call<import('@tensorflow/tfjs-core').io.ModelArtifacts>(slot, 'modelArtifacts'), set.call<ReplicaState>(slot, 'exportState')]);
      await saveCheckpoint(options.checkpoint!.directory, artifacts, {
        ...state,
        progress: {
          epoch, step, globalStep: (epoch - 1) * steps + step, batchSize: o.batchSize, trainCount: o.trainCount, seed: o.seed,
          optimizer: o.optimizer.type, history, partial, skippedSteps,
        },
      });
    };
    /** The epoch's examples: the data, or the pipeline's epoch (the next one is started meanwhile). */
    const examplesOf = async (epoch: number): Promise<LabelledSet> => {
      if (!source) return o.trainSet;
      const set = epoch === firstEpoch ? o.trainSet : checkSet(await source.materialize(epoch), 'data.train', epoch);
      if (set.x.shape[1] !== o.features || set.y.shape[0] !== o.trainCount) {
        throw new ArgumentError('data.train', `every epoch of the pipeline with ${o.trainCount} rows of ${o.features} features`, `epoch ${epoch}: [${set.x.shape.join(', ')}]`);
      }
      if (epoch !== firstEpoch) checkLabels(set, d.outputUnits, 'data.train');
      if (epoch < o.epochs) void source.materialize(epoch + 1);
      return set;
    };

    for (let epoch = firstEpoch; epoch <= o.epochs; epoch++) {
      signal?.throwIfAborted();
      const examples = await examplesOf(epoch);
      const x = examples.x as Tensor<'float32'>;
      const y = examples.y as Tensor<'int32'>;
      shuffleInPlace(indices, random);
      order.set(indices);
      const resumed = resume && epoch === firstEpoch ? resume.progress : undefined;
      let from = resumed?.step ?? 0;
      ledger.clear();
      trace.clear();
      /** The epoch so far, a resumed checkpoint's part included, and the examples trained in this run. */
      const totals = () => {
        const { processed, lossSum } = ledger.totals();
        const trainedNow = processed.reduce((a, b) => a + b, 0);
        resumed?.partial.processed.forEach((p, s) => s < slots && (processed[s]! += p));
        return { lossSum: lossSum + (resumed?.partial.lossSum ?? 0), processed, trainedNow };
      };
      const at = (k: number, kind: NonFiniteKind): NonFiniteStep => ({
        epoch, step: k + 1, globalStep: (epoch - 1) * steps + k + 1, kind,
        rows: Array.from(order.subarray(k * o.batchSize, k * o.batchSize + sizeOf(k))),
      });
      const watcher = options.onStep ? watchSteps(buffers.control, from, (k) => {
        const { counts, lossSum } = ledger.step(k);
        options.onStep!({ epoch, step: k + 1, steps, globalStep: (epoch - 1) * steps + k + 1, loss: lossSum / sizeOf(k), counts });
      }) : undefined;
      const recovery: RecoveryPolicy = {
        ...(o.stepTimeoutMs === undefined ? {} : { stepTimeoutMs: o.stepTimeoutMs }),
        check: () => signal?.throwIfAborted(),
        stopped: () => signal?.reason ?? new Error('training stopped early with no replica failed'),
        nonFinite: ({ step, kind }) => new NonFiniteError(at(step, kind)),
        before: (k) => {
          signal?.throwIfAborted(); // an abort between runs of steps: the next run would clear it
          planShares(buffers.control, sizeOf(k));
        },
        rerun: (k) => {
          ledger.clear(k);
          trace.clear(k);
        },
        replace: (slot) => o.onFailure === 'replace' && replacements[slot]!++ < MAX_REPLACEMENTS_PER_SLOT,
        failed: (f, completed, action) => {
          const failure: ReplicaFailure = { slot: f.slot, engine: engines[f.slot]!, epoch, step: completed + 1, error: f.error, action };
          failures.push(failure);
          options.onFailure?.(failure);
        },
      };
      const t0 = performance.now();
      try {
        while (from < steps) {
          const every = o.checkpointEvery;
          const global = (epoch - 1) * steps + from;
          const to = every === undefined ? steps : Math.min(steps, from + every - (global % every));
          const skipped = await set.runRecovering({ from, to, batchSize: o.batchSize, x: x.data, y: y.data, features: o.features, order, onNonFinite: o.onNonFinite }, recovery);
          trace.record(epoch, steps, from, to);
          for (const { step, kind } of skipped) {
            ledger.forget(step);
            skippedSteps.push(at(step, kind));
          }
          from = to;
          watcher?.check();
          if (options.checkpoint && every !== undefined && to < steps) {
            const { lossSum, processed } = totals();
            await save(epoch, to, { lossSum, processed });
          }
        }
      } finally {
        await watcher?.stop();
      }
      const seconds = (performance.now() - t0) / 1000;
      const { lossSum, processed, trainedNow } = totals();
      const valAccuracy = o.validation
        ? await evaluate(o.validation, 0, o.validation.y.shape[0]!)
        : o.total > o.trainCount ? await evaluate(o.trainSet, o.trainCount, o.total) : NaN;
      const counted = processed.reduce((a, b) => a + b, 0);
      const record: EpochRecord = {
        epoch, loss: lossSum / counted, valAccuracy, samplesPerSecond: trainedNow / seconds,
        shares: processed.map((p) => p / o.trainCount), seconds,
      };
      history.push(record);
      if (options.checkpoint) await save(epoch + 1, 0, { lossSum: 0, processed: [] });
      await options.onEpoch?.(record, context);
    }
    const flat = await set.call<Float32Array>(live()[0]!, 'weights');
    let at = 0;
    const weights = d.weightShapes.map((shape) => {
      const size = shape.reduce((p, n) => p * n, 1);
      const w = flat.slice(at, at + size);
      at += size;
      return w;
    });
    const result: TrainResult = {
      weights, weightShapes: d.weightShapes, history, failures, skippedSteps,
      replicas: engines.map((engine, slot) => ({ engine, description: described[slot]!.engine })),
    };
    signal?.throwIfAborted();
    if (o.test) result.testAccuracy = await evaluate(o.test, 0, o.test.y.shape[0]!);
    return result;
  } catch (error) {
    // After an abort, whatever failed (a worker ended mid-call) failed because of it.
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    stopListening();
    await ending;
    await set.destroy();
  }
}
