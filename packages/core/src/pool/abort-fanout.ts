/**
 * One 'abort' listener per AbortSignal, however many tasks watch it. Node warns
 * (MaxListenersExceededWarning) past 10 listeners on one signal, and a script that shares one
 * signal across hundreds of `run()` calls is ordinary use, not a leak.
 */
interface Watch {
  readonly callbacks: Set<() => void>;
  /** The signal's one listener. */
  readonly fire: () => void;
}

const watches = new WeakMap<AbortSignal, Watch>();

/**
 * Calls `onAbort` once when `signal` aborts (the caller handles a signal that has already
 * aborted). Returns the function that stops watching; the signal's listener goes with its last
 * watcher.
 */
export function watchAbort(signal: AbortSignal, onAbort: () => void): () => void {
  let watch = watches.get(signal);
  if (!watch) {
    const callbacks = new Set<() => void>();
    const fire = () => {
      watches.delete(signal);
      for (const callback of [...callbacks]) callback();
    };
    watch = { callbacks, fire };
    watches.set(signal, watch);
    signal.addEventListener('abort', fire, { once: true });
  }
  const mine = watch;
  mine.callbacks.add(onAbort);
  return () => {
    if (!mine.callbacks.delete(onAbort) || mine.callbacks.size > 0) return;
    signal.removeEventListener('abort', mine.fire);
    if (watches.get(signal) === mine) watches.delete(signal);
  };
}
