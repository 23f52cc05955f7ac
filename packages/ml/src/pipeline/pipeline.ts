import { extname } from 'node:path';
import { availableParallelism } from 'node:os';
import { ArgumentError, PoolClosedError, WorkerPool, type ModuleSpecifier, type TaskOptions } from '@tandem/core';
import { sessionInternals, type SessionInternals } from '@tandem/core/internal/session/internals';
import type { LabelledSet } from '../datasets/index.ts';
import { EpochIterator } from './batches.ts';
import { checkCloneable, checkSource, integerAtLeast, resolveMapModule, safeInteger } from './checks.ts';
import { Deferred, FeatureCount, type Cancellable, type EpochRun } from './context.ts';
import { runBlock } from './block.ts';
import type { BlockTask, BlockResult, MapStep } from './block-task.ts';
import { materializeEpoch } from './materialize.ts';
import { planEpoch, type PlanConfig, type Span } from './plan.ts';
import type { Batch, BatchOptions, MapOptions, PipelineOptions, ShuffleOptions } from './types.ts';

// Built, this module is .js and so is its sibling; from source both are .ts.
const WORKER_MODULE = new URL(`./worker${extname(import.meta.url)}`, import.meta.url);
const DEFAULT_BLOCK_ROWS = 512;

/** The configuration an epoch starts with; replaced (never mutated) by each builder call. */
interface Config extends PlanConfig {
  readonly maps: readonly MapStep[];
  readonly prefetch: number;
  readonly features: FeatureCount;
}

/**
 * An input pipeline over a {@link LabelledSet} on shared memory: rows are taken in each
 * epoch's order (shuffled or not), passed through the maps in worker threads, block by block,
 * and handed out as batches or as one set. It is declarative: whatever order the builder calls
 * come in, rows are ordered, then mapped by each map in turn, then batched. Every epoch is
 * reproducible from (seed, epoch) and the configuration, whatever the number of workers.
 *
 * Builder calls return the pipeline; an epoch already started keeps the configuration it
 * started with.
 *
 * @example
 * ```ts
 * const p = pipeline(data.train, { workers: 2 })
 *   .map(new URL('./augment.ts', import.meta.url), 'jitter')
 *   .shuffle({ seed: 1 })
 *   .batch(256)
 *   .prefetch(2);
 * for await (const { x, y } of p.epoch(0)) { ... }
 * await p.close();
 * ```
 */
export class Pipeline {
  private config: Config;
  private readonly source: LabelledSet;
  private readonly workers: number;
  private readonly seed: number;
  private readonly retries: number;
  private readonly timeoutMs: number | undefined;
  private pool: WorkerPool | undefined;
  /** The session whose workers map, when given one; then `pool` is its pool, not the pipeline's to end. */
  private readonly session: SessionInternals | undefined;
  private readonly active = new Set<Cancellable>();
  /** Materialized epochs, by epoch, from the latest one asked for on. */
  private readonly prepared = new Map<number, Promise<LabelledSet>>();
  private closed: Promise<void> | undefined;

  constructor(source: LabelledSet, options: PipelineOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    this.source = checkSource(source);
    if (options.session !== undefined) {
      this.session = sessionInternals(options.session);
      if (options.workers !== undefined) throw new ArgumentError('workers', "nothing when a session is given: the maps run on the session's workers", options.workers);
      this.pool = this.session.pool;
    }
    this.workers = this.session ? this.session.pool.size : integerAtLeast(options.workers ?? availableParallelism(), 0, 'workers');
    this.seed = safeInteger(options.seed ?? 0, 'seed');
    this.retries = integerAtLeast(options.retries ?? 2, 0, 'retries');
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs))) {
      throw new ArgumentError('timeoutMs', 'a positive, finite number of milliseconds', timeoutMs);
    }
    this.timeoutMs = timeoutMs;
    this.config = {
      maps: [],
      shuffleSeed: undefined,
      batch: undefined,
      blockRows: integerAtLeast(options.blockRows ?? DEFAULT_BLOCK_ROWS, 1, 'blockRows'),
      prefetch: 0,
      features: new FeatureCount(this.sourceFeatures, undefined),
    };
  }

  private get sourceFeatures(): number {
    return this.source.x.shape[1]!;
  }

  /**
   * Adds a map: `exportName` of `module` (a file URL or path; TypeScript works) is called in a
   * worker thread with each block of rows (a {@link MapBlock}) and returns `{ x, y? }`, with any
   * number of features per row as long as every block has the same. Maps run in the order added.
   * Make it deterministic in its block (draw randomness from `block.random(row)`) and the epoch
   * is reproducible.
   *
   * @example
   * ```ts
   * // augment.ts
   * export function jitter({ x, rows, features, random }: MapBlock) {
   *   for (let i = 0; i < rows; i++) {
   *     const r = random(i);   // x is the block's own copy: writing into it is fine
   *     for (let k = i * features; k < (i + 1) * features; k++) x[k] = x[k]! + (r() - 0.5) * 0.1;
   *   }
   *   return { x };
   * }
   * // training script
   * p.map(new URL('./augment.ts', import.meta.url), 'jitter');
   * p.map(new URL('./augment.ts', import.meta.url), 'crop', { params: { side: 24 }, features: 576 });
   * ```
   */
  map<P = unknown>(module: ModuleSpecifier, exportName: string, options: MapOptions<P> = {}): this {
    const href = resolveMapModule(module);
    if (typeof exportName !== 'string' || exportName.length === 0) throw new ArgumentError('exportName', 'the name of an exported function', exportName);
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    checkCloneable(options.params, 'params');
    const features = options.features === undefined ? undefined : integerAtLeast(options.features, 1, 'features');
    const step: MapStep = { href, exportName, params: options.params, features };
    // A new chain may have a new width: start over with what this map declares.
    this.config = { ...this.config, maps: [...this.config.maps, step], features: new FeatureCount(features, exportName) };
    return this;
  }

  /**
   * Shuffles the rows: each epoch gets its own order, drawn from (seed, epoch), so the same
   * seed gives the same orders and every epoch a different one.
   *
   * @example
   * ```ts
   * p.shuffle({ seed: 1 });
   * ```
   */
  shuffle(options: ShuffleOptions = {}): this {
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    const seed = safeInteger(options.seed ?? this.seed, 'seed');
    this.config = { ...this.config, shuffleSeed: seed };
    return this;
  }

  /**
   * Cuts each epoch into batches of `size` rows; the last one is smaller unless `dropRemainder`
   * leaves it out (of {@link Pipeline.materialize} too). A batched pipeline maps one batch per call.
   *
   * @example
   * ```ts
   * p.batch(256, { dropRemainder: true });
   * ```
   */
  batch(size: number, options: BatchOptions = {}): this {
    integerAtLeast(size, 1, 'batchSize');
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    const dropRemainder = options.dropRemainder ?? false;
    if (typeof dropRemainder !== 'boolean') throw new ArgumentError('dropRemainder', 'a boolean', dropRemainder);
    this.config = { ...this.config, batch: { size, dropRemainder } };
    return this;
  }

  /**
   * Lets {@link Pipeline.epoch} map up to `batches` batches ahead of the one being consumed, in
   * the workers, so the consumer rarely waits. Default 0: a batch is mapped when asked for.
   * (For whole epochs, see {@link Pipeline.materialize}: ask for the next one early.)
   *
   * @example
   * ```ts
   * p.batch(128).prefetch(2);
   * ```
   */
  prefetch(batches: number): this {
    this.config = { ...this.config, prefetch: integerAtLeast(batches, 0, 'batches') };
    return this;
  }

  /**
   * Rows in every epoch: the source's, less a dropped ragged batch.
   *
   * @example
   * ```ts
   * pipeline(set50).batch(7, { dropRemainder: true }).rowsPerEpoch; // 49
   * ```
   */
  get rowsPerEpoch(): number {
    const n = this.source.x.shape[0]!;
    const batch = this.config.batch;
    return batch?.dropRemainder ? Math.floor(n / batch.size) * batch.size : n;
  }

  /**
   * Batches {@link Pipeline.epoch} yields per epoch.
   *
   * @example
   * ```ts
   * pipeline(set50).batch(7).batchesPerEpoch; // 8, the last of 1 row
   * ```
   */
  get batchesPerEpoch(): number {
    return Math.ceil(this.rowsPerEpoch / (this.config.batch?.size ?? this.config.blockRows));
  }

  /**
   * The epoch as batches `{ x, y, index, epoch }`, on shared memory, in order. Without
   * {@link Pipeline.batch}, batches are blocks of `blockRows` rows. Concatenated, the batches are
   * {@link Pipeline.materialize} of the same epoch. A map error rejects the `next()` that reaches
   * it; `break` stops the mapping.
   *
   * @example
   * ```ts
   * for await (const { x, y, index } of p.epoch(0)) {
   *   model.trainOnBatch(x, y);
   * }
   * ```
   */
  epoch(epoch: number): AsyncIterableIterator<Batch> {
    integerAtLeast(epoch, 0, 'epoch');
    const iterator = new EpochIterator(this.context(epoch), this.config.prefetch, (it) => this.active.delete(it));
    if (this.closed) iterator.cancel(this.closedError(`epoch ${epoch}`));
    else this.active.add(iterator);
    return iterator;
  }

  /**
   * The whole epoch (ordered, mapped) as one {@link LabelledSet} on shared memory: the workers
   * write their blocks straight into it.
   *
   * To prepare epoch e + 1 while epoch e trains, call `p.materialize(e + 1)` early, without
   * waiting: the work starts at once and the result is kept until `materialize(e + 1)` is called
   * again, which returns the same promise. Asking for epoch e forgets kept epochs before e.
   *
   * @example
   * ```ts
   * let set = await p.materialize(0);
   * for (let e = 0; e < epochs; e++) {
   *   if (e + 1 < epochs) void p.materialize(e + 1);   // mapped while epoch e trains
   *   await trainOn(set);
   *   if (e + 1 < epochs) set = await p.materialize(e + 1);
   * }
   * ```
   */
  materialize(epoch: number): Promise<LabelledSet> {
    try {
      integerAtLeast(epoch, 0, 'epoch');
    } catch (error) {
      return Promise.reject(error);
    }
    for (const e of this.prepared.keys()) if (e < epoch) this.prepared.delete(e);
    const kept = this.prepared.get(epoch);
    if (kept) return kept;
    const run = new Deferred<LabelledSet>();
    if (this.closed) {
      run.reject(this.closedError(`epoch ${epoch}`));
      return run.promise;
    }
    const task: Cancellable = { cancel: (error) => run.reject(error) };
    this.active.add(task);
    void run.promise.then(() => this.active.delete(task), () => {
      this.active.delete(task);
      // A failed epoch is not kept: asking again tries again (a crash may not recur).
      if (this.prepared.get(epoch) === run.promise) this.prepared.delete(epoch);
    });
    this.prepared.set(epoch, run.promise);
    void materializeEpoch(this.context(epoch), run);
    return run.promise;
  }

  /**
   * Rejects every epoch in progress or kept (`PoolClosedError`, code
   * ERR_TANDEM_PIPELINE_CLOSED) and ends the workers. Later calls reject the same way.
   *
   * @example
   * ```ts
   * await p.close();
   * ```
   */
  close(): Promise<void> {
    if (!this.closed) {
      const error = this.closedError('this epoch');
      for (const task of [...this.active]) task.cancel(error);
      this.active.clear();
      this.prepared.clear();
      // A session's workers are the session's: blocks still running finish there, unheard.
      this.closed = this.pool && !this.session ? this.pool.destroy() : Promise.resolve();
    }
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private closedError(what: string): PoolClosedError {
    return new PoolClosedError(`the input pipeline was closed before ${what} was ready`, 'ERR_TANDEM_PIPELINE_CLOSED');
  }

  private context(epoch: number): EpochRun {
    const config = this.config;
    const plan = planEpoch(this.source.x.shape[0]!, config, epoch);
    const inWorkers = config.maps.length > 0 && this.workers > 0;
    const task = (span: Span, out: BlockTask['out']): BlockTask => ({
      x: this.source.x.data, y: this.source.y.data, features: this.sourceFeatures, order: plan.order,
      start: span.start, rows: span.rows, epoch, seed: this.seed, maps: config.maps, out,
    });
    return {
      plan,
      sourceFeatures: this.sourceFeatures,
      features: config.features,
      concurrency: inWorkers ? 2 * this.workers : 1,
      exec: inWorkers
        ? (span, out) => this.workerPool().run<BlockResult>(WORKER_MODULE, 'mapBlock', [task(span, out)], this.taskOptions(epoch, span, config.maps))
        : (span, out) => runBlock(task(span, out)),
    };
  }

  private taskOptions(epoch: number, span: Span, maps: readonly MapStep[]): TaskOptions {
    const options: TaskOptions = { retries: this.retries, ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}) };
    const session = this.session;
    if (!session) return options;
    const device = session.devices().find((d) => d.kind === 'cpu' && d.backend !== 'tfjs')?.id ?? 'cpu';
    const name = `map ${maps.map((m) => m.exportName).join(' → ')}: rows ${span.start}–${span.start + span.rows}`;
    return {
      ...options,
      onRun: ({ worker, start, end }) => session.recorder.activity(device, `worker ${worker}`, 'compute', name, start, end, { epoch, rows: span.rows, pipeline: true }),
    };
  }

  /** @internal The pool that maps, when it is a session's: a train() on that session must leave it a worker. */
  sessionPool(): WorkerPool | undefined {
    return this.session?.pool;
  }

  private workerPool(): WorkerPool {
    // Started on first use: a pipeline without maps never needs one.
    this.pool ??= new WorkerPool({ workers: this.workers });
    return this.pool;
  }
}

/**
 * Starts an input pipeline over `source` (see {@link Pipeline}).
 *
 * @example
 * ```ts
 * const data = await datasets.mnist();
 * const p = pipeline(data.train, { workers: 2, seed: 1 }).shuffle().batch(256);
 * for await (const { x, y } of p.epoch(0)) console.log(x.shape, y.shape);
 * await p.close();
 * ```
 */
export function pipeline(source: LabelledSet, options?: PipelineOptions): Pipeline {
  return new Pipeline(source, options);
}
