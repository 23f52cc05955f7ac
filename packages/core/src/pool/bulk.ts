import { ArgumentError } from '../errors.ts';
import { watchAbort } from './abort-fanout.ts';
import type { ModuleSpecifier } from './module-ref.ts';
import type { TaskOptions } from './options.ts';
import type { Task, WorkerPool } from './pool.ts';

/** Options of a bulk call: every task gets the task options; progress is reported per call. */
export interface BulkOptions extends TaskOptions {
  /** Called after each task of this call settles. */
  onProgress?: (done: number, total: number) => void;
}

/** One settled task of {@link streamTasks}, shaped like `Promise.allSettled`'s entries plus its index. */
export type Settled<T> =
  | { readonly index: number; readonly status: 'fulfilled'; readonly value: T }
  | { readonly index: number; readonly status: 'rejected'; readonly reason: unknown };

function checkArgsList(argsList: unknown): asserts argsList is readonly (readonly unknown[])[] {
  if (!Array.isArray(argsList)) throw new ArgumentError('argsList', 'an array of argument arrays, one per task', argsList);
}

function checkProgress(onProgress: unknown): void {
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new ArgumentError('options.onProgress', 'a function (done, total) => void', onProgress);
  }
}

/**
 * Submits one task per entry of `argsList`. All tasks share one abort listener (not one each),
 * and `onEach` sees every settlement exactly once. Bad input throws; if it is found midway, the
 * tasks already submitted are aborted first, so nothing runs for a call that failed.
 */
function submitAll(
  pool: WorkerPool,
  module: ModuleSpecifier,
  exportName: string,
  argsList: readonly (readonly unknown[])[],
  options: BulkOptions,
  onEach: (index: number, ok: boolean, value: unknown) => void,
): Task[] {
  const { onProgress, signal, ...taskOptions } = options;
  checkProgress(onProgress);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new ArgumentError('options.signal', 'an AbortSignal', signal);
  const total = argsList.length;
  let done = 0;
  const tasks: Task[] = [];
  try {
    for (let i = 0; i < total; i++) {
      tasks.push(pool.submit(module, exportName, argsList[i] as readonly unknown[], taskOptions, `argsList[${i}]`, (_task, ok, value) => {
        done++;
        onEach(i, ok, value);
        onProgress?.(done, total);
      }));
    }
  } catch (error) {
    for (const task of tasks) {
      // The caller gets `error` from this call; the tasks' own promises have no other observer.
      task.promise.catch(() => undefined);
      pool.abort(task, error);
    }
    throw error;
  }
  if (signal) {
    const onAbort = () => {
      for (const task of tasks) pool.abort(task, signal.reason);
    };
    if (signal.aborted) onAbort();
    else {
      const unwatch = watchAbort(signal, onAbort);
      void Promise.allSettled(tasks.map((t) => t.promise)).then(unwatch);
    }
  }
  return tasks;
}

/**
 * Runs one task per argument list and resolves to the results in order. The first failure
 * rejects the call and aborts the tasks that have not finished.
 */
export async function runTasks<T>(pool: WorkerPool, module: ModuleSpecifier, exportName: string,
  argsList: readonly (readonly unknown[])[], options: BulkOptions = {}): Promise<T[]> {
  checkArgsList(argsList);
  const results = new Array<T>(argsList.length);
  let firstError: { error: unknown } | undefined;
  let tasks: Task[] = [];
  tasks = submitAll(pool, module, exportName, argsList, options, (index, ok, value) => {
    if (ok) results[index] = value as T;
    else if (!firstError) {
      firstError = { error: value };
      for (const other of tasks) pool.abort(other, value);
    }
  });
  // Every task's own promise is handled here; the call's outcome comes from the callbacks above.
  await Promise.allSettled(tasks.map((t) => t.promise));
  if (firstError) throw firstError.error;
  return results;
}

/**
 * Runs one task per argument list and yields each as it settles, failures included. Leaving the
 * loop early (break, throw) aborts the tasks not yet finished.
 */
export async function* streamTasks<T>(pool: WorkerPool, module: ModuleSpecifier, exportName: string,
  argsList: readonly (readonly unknown[])[], options: BulkOptions = {}): AsyncGenerator<Settled<T>, void, undefined> {
  checkArgsList(argsList);
  const ready: Settled<T>[] = [];
  let wake: (() => void) | undefined;
  const tasks = submitAll(pool, module, exportName, argsList, options, (index, ok, value) => {
    ready.push(ok ? { index, status: 'fulfilled', value: value as T } : { index, status: 'rejected', reason: value });
    wake?.();
  });
  for (const t of tasks) t.promise.catch(() => undefined);
  let yielded = 0;
  try {
    while (yielded < tasks.length) {
      if (ready.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      for (const item of ready.splice(0)) {
        yielded++;
        yield item;
      }
    }
  } finally {
    if (yielded < tasks.length) {
      const reason = new DOMException('the stream was closed before this task finished', 'AbortError');
      for (const task of tasks) pool.abort(task, reason);
    }
  }
}
