import { availableParallelism } from 'node:os';
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';
import { ArgumentError } from '../errors.ts';
import type { WorkerKind } from './worker-handle.ts';

/** How a pool of workers is built. */
export interface PoolOptions {
  /** Number of workers; defaults to the machine's available parallelism. */
  workers?: number;
  /** `'thread'` (default: shared memory, zero-copy tensors) or `'process'` (isolated memory; one native addon per process). */
  workerKind?: WorkerKind;
  /** Most tasks waiting at once; default unbounded. */
  maxQueue?: number;
  /** When the queue is full: reject with `QueueFullError` (`'error'`, default) or wait for room (`'wait'`). */
  onQueueFull?: 'error' | 'wait';
  /** Most tasks sent in one message to a worker; 1 sends each task alone. Default 512. */
  maxBatch?: number;
  /** A batch is sized to run about this long, from each function's measured run time. Default 2 ms. */
  batchTargetMs?: number;
  /** Per-worker limits. Threads honour all of Node's; processes honour `maxOldGenerationSizeMb`. */
  resourceLimits?: ResourceLimits;
  /** Extra environment variables for process workers. */
  env?: Record<string, string>;
}

/** Per-task options. */
export interface TaskOptions {
  /** Aborting removes a queued task, or terminates (and replaces) the worker running it. */
  signal?: AbortSignal;
  /** Limit on one attempt's run time, counted from its start in a worker, not from submission. */
  timeoutMs?: number;
  /** Extra attempts after a crash or timeout (and after errors `retryOn` accepts). Default 0. */
  retries?: number;
  /** Retry ordinary errors thrown by the task too: `true`, or a predicate on the error. Default: never. */
  retryOn?: boolean | ((error: unknown, attempt: number) => boolean);
  /** ArrayBuffers to move to the worker instead of copying (threads only). Such a task runs alone and is not retried once sent. */
  transfer?: TransferListItem[];
  /** Higher runs first; equal priorities run in submission order. Default 0. */
  priority?: number;
  /**
   * Called once per attempt that a worker ran to its end (returned or threw; not one lost with a
   * crashed worker), with the worker's slot index and when the attempt ran — for traces that
   * show one track per worker. Errors it throws are ignored.
   *
   * @example
   * ```ts
   * await pool.run(tasks, 'square', [3], { onRun: ({ worker, start, end }) => console.log(worker, end - start) });
   * ```
   */
  onRun?: (run: TaskRun) => void;
}

/**
 * Where and when one attempt of a task ran. Times are `performance.now()` ms on the calling
 * thread's clock, estimated from the worker's own timing of the task within its batch.
 */
export interface TaskRun {
  /** Index of the worker slot (0 … workers − 1); a replaced worker keeps its slot's index. */
  readonly worker: number;
  readonly start: number;
  readonly end: number;
}

export interface ResolvedPoolOptions {
  readonly workers: number;
  readonly workerKind: WorkerKind;
  readonly maxQueue: number;
  readonly onQueueFull: 'error' | 'wait';
  readonly maxBatch: number;
  readonly batchTargetMs: number;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly env: Record<string, string> | undefined;
}

export function resolvePoolOptions(options: PoolOptions = {}): ResolvedPoolOptions {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
  const workers = options.workers ?? availableParallelism();
  positiveInteger(workers, 'workers');
  const workerKind = options.workerKind ?? 'thread';
  if (workerKind !== 'thread' && workerKind !== 'process') throw new ArgumentError('workerKind', "'thread' or 'process'", workerKind);
  const maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
  if (maxQueue !== Number.POSITIVE_INFINITY) positiveInteger(maxQueue, 'maxQueue');
  const onQueueFull = options.onQueueFull ?? 'error';
  if (onQueueFull !== 'error' && onQueueFull !== 'wait') throw new ArgumentError('onQueueFull', "'error' or 'wait'", onQueueFull);
  const maxBatch = options.maxBatch ?? 512;
  positiveInteger(maxBatch, 'maxBatch');
  const batchTargetMs = options.batchTargetMs ?? 2;
  if (typeof batchTargetMs !== 'number' || !(batchTargetMs > 0) || !Number.isFinite(batchTargetMs)) {
    throw new ArgumentError('batchTargetMs', 'a positive number of milliseconds', batchTargetMs);
  }
  if (options.resourceLimits !== undefined && (typeof options.resourceLimits !== 'object' || options.resourceLimits === null)) {
    throw new ArgumentError('resourceLimits', 'an object like { maxOldGenerationSizeMb: 256 }', options.resourceLimits);
  }
  return {
    workers,
    workerKind,
    maxQueue,
    onQueueFull,
    maxBatch,
    batchTargetMs,
    resourceLimits: options.resourceLimits,
    env: options.env,
  };
}

/** Validates per-task options; returns the error instead of throwing so callers can reject. */
export function checkTaskOptions(options: TaskOptions): ArgumentError | undefined {
  if (typeof options !== 'object' || options === null) return new ArgumentError('options', 'an object', options);
  const { signal, timeoutMs, retries, retryOn, transfer, priority, onRun } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) return new ArgumentError('options.signal', 'an AbortSignal', signal);
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs))) {
    return new ArgumentError('options.timeoutMs', 'a positive, finite number of milliseconds', timeoutMs);
  }
  if (retries !== undefined && (!Number.isSafeInteger(retries) || retries < 0)) {
    return new ArgumentError('options.retries', 'a non-negative integer', retries);
  }
  if (retryOn !== undefined && typeof retryOn !== 'boolean' && typeof retryOn !== 'function') {
    return new ArgumentError('options.retryOn', 'a boolean or a function (error, attempt) => boolean', retryOn);
  }
  if (transfer !== undefined && !Array.isArray(transfer)) return new ArgumentError('options.transfer', 'an array of transferables', transfer);
  if (priority !== undefined && (typeof priority !== 'number' || !Number.isFinite(priority))) {
    return new ArgumentError('options.priority', 'a finite number', priority);
  }
  if (onRun !== undefined && typeof onRun !== 'function') return new ArgumentError('options.onRun', 'a function ({ worker, start, end }) => void', onRun);
  return undefined;
}

function positiveInteger(value: unknown, name: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new ArgumentError(name, 'a positive integer', value);
}
