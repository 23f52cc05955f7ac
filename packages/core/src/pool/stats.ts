import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Distribution of a duration, in milliseconds. */
export interface Percentiles {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** One worker slot: a slot keeps its index when its worker is replaced after a crash. */
export interface WorkerStats {
  readonly index: number;
  readonly kind: 'thread' | 'process';
  readonly state: 'starting' | 'idle' | 'busy' | 'retired';
  readonly pid: number | undefined;
  readonly threadId: number | undefined;
  /** Tasks this slot's workers ran to an answer (result or thrown error). */
  readonly tasks: number;
  readonly busyMs: number;
  /** Busy time over the pool's lifetime so far, 0..1. */
  readonly utilisation: number;
  /** How many times this slot's worker was replaced. */
  readonly restarts: number;
  /** Lent out of general scheduling (`WorkerPool.lease`): e.g. a training replica runs on it. */
  readonly leased: boolean;
}

/** A snapshot of what the pool has done. */
export interface PoolStats {
  readonly uptimeMs: number;
  readonly tasks: {
    readonly submitted: number;
    readonly completed: number;
    readonly failed: number;
    readonly aborted: number;
    readonly queued: number;
    readonly running: number;
    /** Attempts re-run after a crash, timeout or `retryOn` error. */
    readonly retries: number;
    readonly crashes: number;
    readonly timeouts: number;
    readonly batches: number;
  };
  /** From submission to the start of the task's last attempt. */
  readonly waitMs: Percentiles;
  /** The task function's own run time, measured in the worker. */
  readonly runMs: Percentiles;
  readonly workers: readonly WorkerStats[];
}

/**
 * A duration histogram in microseconds. Node's histogram keeps fixed memory however many values
 * it records, so stats stay bounded over millions of tasks.
 */
export class DurationHistogram {
  private readonly h: RecordableHistogram = createHistogram();

  record(ms: number): void {
    this.h.record(Math.max(1, Math.round(ms * 1000)));
  }

  snapshot(): Percentiles {
    const h = this.h;
    const count = h.count;
    if (count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    return {
      count,
      mean: h.mean / 1000,
      p50: h.percentile(50) / 1000,
      p90: h.percentile(90) / 1000,
      p99: h.percentile(99) / 1000,
      max: h.max / 1000,
    };
  }
}
