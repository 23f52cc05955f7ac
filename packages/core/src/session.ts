import { cpus } from 'node:os';
import { runTasks, streamTasks, type BulkOptions, type Settled } from './pool/bulk.ts';
import type { ModuleSpecifier } from './pool/module-ref.ts';
import type { PoolOptions, TaskOptions } from './pool/options.ts';
import { WorkerPool, type ProgressEvent } from './pool/pool.ts';
import type { PoolStats } from './pool/stats.ts';

/** Options of {@link Tandem.create}. */
export type TandemOptions = PoolOptions;

/** A compute device the session can use. */
export interface DeviceInfo {
  readonly id: string;
  readonly kind: 'cpu' | 'gpu';
  readonly description: string;
  /** Parallel lanes the session drives on it (worker count for the CPU). */
  readonly lanes: number;
}

/**
 * A Tandem session: the entry point. It owns the workers and settles every task it accepts.
 *
 * @example
 * ```ts
 * import { Tandem } from '@tandem/core';
 * await using td = await Tandem.create({ workers: 2 });
 * const r = await td.run(new URL('./tasks.ts', import.meta.url), 'simulate', [42], { timeoutMs: 5_000, retries: 2 });
 * ```
 */
export class Tandem {
  private constructor(private readonly pool: WorkerPool) {}

  /**
   * Starts a session and waits until its workers are ready.
   * Rejects with `ArgumentError` for bad options and `WorkerStartError` if workers can't start.
   *
   * @example
   * ```ts
   * const td = await Tandem.create({ workers: 2, workerKind: 'thread' });
   * ```
   */
  static async create(options: TandemOptions = {}): Promise<Tandem> {
    const pool = new WorkerPool(options);
    try {
      await pool.ready();
    } catch (error) {
      await pool.destroy();
      throw error;
    }
    return new Tandem(pool);
  }

  /**
   * Runs the function `exportName` of a task module in a worker, `args` spread as its arguments.
   *
   * @example
   * ```ts
   * const sum = await td.run(new URL('./tasks.ts', import.meta.url), 'add', [1, 2], { retries: 1 });
   * ```
   */
  run<T = unknown>(module: ModuleSpecifier, exportName: string, args: readonly unknown[] = [], options: TaskOptions = {}): Promise<T> {
    return this.pool.run<T>(module, exportName, args, options);
  }

  /**
   * Runs one task per entry of `argsList` (batched: many tasks per message) and resolves to the
   * results in order. The first failure rejects and aborts the rest.
   *
   * @example
   * ```ts
   * const squares = await td.runMany<number>(tasks, 'square', [[1], [2], [3]], { onProgress: (d, t) => bar.update(d) });
   * ```
   */
  runMany<T = unknown>(module: ModuleSpecifier, exportName: string, argsList: readonly (readonly unknown[])[], options: BulkOptions = {}): Promise<T[]> {
    return runTasks<T>(this.pool, module, exportName, argsList, options);
  }

  /**
   * Like {@link Tandem.runMany}, but yields each task as it settles (failures included, as
   * `{ status: 'rejected' }`). Breaking out of the loop aborts the tasks still pending.
   *
   * @example
   * ```ts
   * for await (const r of td.stream<number>(tasks, 'square', argsList)) if (r.status === 'fulfilled') total += r.value;
   * ```
   */
  stream<T = unknown>(module: ModuleSpecifier, exportName: string, argsList: readonly (readonly unknown[])[], options: BulkOptions = {}): AsyncGenerator<Settled<T>, void, undefined> {
    return streamTasks<T>(this.pool, module, exportName, argsList, options);
  }

  /**
   * Devices this session drives.
   *
   * @example
   * ```ts
   * for (const d of td.devices()) console.log(d.id, d.description);
   * ```
   */
  devices(): DeviceInfo[] {
    const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
    const { workers, workerKind } = this.pool.options;
    return [{ id: 'cpu', kind: 'cpu', description: `${cpu} — ${workers} ${workerKind} worker${workers === 1 ? '' : 's'}`, lanes: workers }];
  }

  /**
   * Counts, wait/run percentiles and per-worker utilisation so far.
   *
   * @example
   * ```ts
   * console.log(td.stats().runMs.p99);
   * ```
   */
  stats(): PoolStats {
    return this.pool.stats();
  }

  /**
   * Listens to progress of everything submitted to the session (`done` of `total`).
   *
   * @example
   * ```ts
   * td.onProgress(({ done, total }) => bar.update(done, { total }));
   * ```
   */
  onProgress(listener: (event: ProgressEvent) => void): () => void {
    this.pool.on('progress', listener);
    return () => this.pool.off('progress', listener);
  }

  /** Stops taking tasks, finishes queued and running ones, then ends the workers. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Rejects everything pending (code `ERR_TANDEM_POOL_DESTROYED`) and ends the workers now. */
  destroy(): Promise<void> {
    return this.pool.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
