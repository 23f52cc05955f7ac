/**
 * tfjs has one active backend per thread. TfjsBackends with different engines share the thread, so
 * every piece of tfjs work runs here, one at a time, with its engine made active for its duration
 * and the previous active backend restored afterwards: neither another TfjsBackend nor the
 * application's own tfjs code sees its backend switched under it.
 */
import * as tf from '@tensorflow/tfjs-core';

let tail: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` with `engine` as tfjs's active backend, after every earlier `onEngine` task has settled.
 * When `signal` aborts first the task rejects with its reason, so a lost device can't stall the
 * queue for every engine behind it.
 */
export function onEngine<T>(engine: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const task = tail.then(async () => {
    // The field, not tf.getBackend(): that would initialise the best registered backend when none is active yet.
    const previous = tf.engine().backendName as string | null | undefined;
    if (previous !== engine && !(await tf.setBackend(engine))) {
      throw new Error(`tfjs could not make '${engine}' its backend (see the warning tfjs printed)`);
    }
    try {
      return await (signal ? abortable(fn, signal) : fn());
    } finally {
      if (previous && previous !== engine && tf.findBackend(previous)) await tf.setBackend(previous);
    }
  });
  tail = task.catch(() => undefined);
  return task;
}

/** `fn()`, or its rejection with `signal.reason` once `signal` aborts (the listener goes when `fn` settles). */
function abortable<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    fn().then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
