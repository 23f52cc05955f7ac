/**
 * How a GPU backend tells a run's observer (`Backend.run`'s `options.observe`) about the uploads,
 * readbacks and queue work it does. The places that move data (a buffer pool, a copy cache) are
 * shared by every run in flight, so the observer travels with the run's async context rather than
 * through every driver's arguments: {@link observed} starts a run with it, and {@link report}
 * reaches the observer of whichever run is doing the work. Without an observer both cost nothing
 * but a lookup.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RunEvent, RunObserver } from '@tandem/core/backend';

const current = new AsyncLocalStorage<RunObserver>();

/** Runs `body` (one `Backend.run`) with `observe` as the observer of everything it does. */
export function observed<T>(observe: RunObserver | undefined, body: () => Promise<T>): Promise<T> {
  return observe ? current.run(observe, body) : body();
}

/** Whether the run doing the current work has an observer (so timing it is worth the clock reads). */
export function isObserved(): boolean {
  return current.getStore() !== undefined;
}

/** Tells the current run's observer, if any, about `event`. An observer that throws is ignored. */
export function report(event: RunEvent): void {
  const observe = current.getStore();
  if (!observe) return;
  try {
    observe(event);
  } catch {
    // The trace is a by-product: it must never fail the work.
  }
}

/** Runs the synchronous `move` (an upload of `bytes`) and reports it with its start and end. */
export function timedUpload<T>(bytes: number, move: () => T): T {
  if (!isObserved()) return move();
  const start = performance.now();
  try {
    return move();
  } finally {
    report({ kind: 'upload', bytes, start, end: performance.now() });
  }
}

/** Awaits the readback `move` of `bytes` and reports it with its start and end (only if it succeeded). */
export async function timedReadback<T>(bytes: number, move: () => Promise<T>, since?: () => number): Promise<T> {
  if (!isObserved()) return move();
  const start = performance.now();
  const value = await move();
  const end = performance.now();
  // `since`: when the data could first be read (the queue finished); the wait before is the queue's time, not the transfer's.
  report({ kind: 'readback', bytes, start: Math.min(end, Math.max(start, since?.() ?? start)), end });
  return value;
}
