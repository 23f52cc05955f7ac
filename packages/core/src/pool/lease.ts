/**
 * Workers lent out of a pool's general scheduling, for work that keeps state in a worker between
 * tasks (a training replica's model): every task of the lease names the worker it runs on.
 */
import type { ModuleSpecifier } from './module-ref.ts';
import type { TaskOptions } from './options.ts';

/**
 * A set of a pool's workers taken out of general scheduling (see {@link WorkerPool.lease}).
 * Leased worker `k` is one pool slot: the same thread, counted in the pool's stats; a worker that
 * crashes or is restarted is replaced in that slot and stays leased. `release()` gives them back.
 */
export interface WorkerLease {
  /** Workers lent. */
  readonly size: number;
  /** The pool slot index of leased worker `k` (as {@link WorkerStats.index} and `TaskRun.worker` show it). */
  slotOf(worker: number): number;
  /**
   * Runs `exportName` of the task module on leased worker `worker`, alone, after the tasks already
   * given to that worker. Rejects as {@link WorkerPool.run} does, and with `PoolClosedError` once the
   * lease was released.
   */
  run<T = unknown>(worker: number, module: ModuleSpecifier, exportName: string, args?: readonly unknown[], options?: TaskOptions): Promise<T>;
  /**
   * Ends leased worker `worker`'s thread or process now — its running task rejects with
   * `WorkerCrashedError` — and resolves once a fresh one has started in its slot (rejects with
   * `WorkerStartError` if none can start). For a worker whose state is no longer to be trusted.
   */
  restart(worker: number): Promise<void>;
  /** Gives the workers back to the pool; tasks of the lease not yet run reject with `PoolClosedError`. Idempotent. */
  release(): void;
}
