/**
 * A run's own time, for the cost model: what a device spent on it, not the wait before it began.
 */
import type { RunObserver } from './contract.ts';

/** When a run's device began on it, learnt from the events the backend reports ({@link noteStart}). */
export interface RunStart {
  /** The earliest start of anything the backend reported doing for the run (`performance.now()` ms). */
  firstEvent?: number;
}

/**
 * An observer that keeps in `start` the earliest start of the run's events.
 *
 * @example
 * ```ts
 * const began: RunStart = {};
 * const t0 = performance.now();
 * await backend.run(call, range, { observe: noteStart(began) });
 * costs.recordKernel(key, backend.device.id, n, ownMs(t0, performance.now(), began));
 * ```
 */
export function noteStart(start: RunStart): RunObserver {
  return (e) => {
    start.firstEvent = Math.min(start.firstEvent ?? e.start, e.start);
  };
}

/**
 * The run's own time: from `t0` to `end`, less the wait before the backend's first reported
 * activity. That wait is the device finishing other work first (CPU chunk tasks queued behind a
 * reader's decode tasks, a GPU queue still busy): a measure of load, not of the kernel. Counted,
 * it made the CPU look several times slower than it was while a file was being read, and the
 * planner sent the query's kernel to a software GPU that was slower still. A backend that reports
 * nothing is timed whole.
 */
export function ownMs(t0: number, end: number, start: RunStart): number {
  return end - t0 - Math.max(0, Math.min(end, start.firstEvent ?? t0) - t0);
}
