/**
 * Shared memory for tensors and batches, with the garbage collection V8 leaves out for it. V8
 * counts a dropped ArrayBuffer's bytes toward its next collection, but not a SharedArrayBuffer's
 * (Node 20): a collection then comes only when the small JS objects that hold the buffers fill
 * the heap, and a loop that makes and drops tensors grows the process by all it allocates (200
 * dropped 4 MiB tensors: RSS +801 MiB; +77 MiB with this; plain ArrayBuffers: +36 MiB). So the
 * bytes allocated here are counted, and every {@link COLLECT_EVERY_BYTES} a young-generation
 * collection runs: about half a millisecond, and it frees the buffers of tensors dropped young,
 * which is most of them. Full collections stay V8's to schedule: forced ones would pause a
 * process with a large heap for long. The collector is V8's own `gc`, reached through a fresh
 * context after turning on `--expose-gc` (the page's `globalThis.gc` stays undefined); where that
 * is refused, allocation simply goes on uncollected, as before.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';

/** Bytes of shared memory allocated between two collections. */
export const COLLECT_EVERY_BYTES = 64 * 1024 * 1024;

/** V8's `gc`: `{ type: 'minor' }` asks for a young-generation collection, `'major'` for a full one. */
type Collect = (options: { type: 'minor' | 'major' }) => void;
let collector: Collect | null | undefined;
let sinceLast = 0;

function gcFunction(): Collect | null {
  if (collector === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as unknown;
      collector = typeof gc === 'function' ? (gc as Collect) : null;
    } catch {
      collector = null;
    }
  }
  return collector;
}

/**
 * A SharedArrayBuffer of `bytes`, after a collection when enough shared memory was allocated
 * since the last one.
 *
 * @example
 * ```ts
 * const values = new Float32Array(sharedBuffer(4 * n));
 * ```
 */
export function sharedBuffer(bytes: number): SharedArrayBuffer {
  noteShared(bytes);
  return new SharedArrayBuffer(bytes);
}

/**
 * Counts `bytes` of shared memory this thread now holds without having allocated them: a
 * tensor received from another thread. A worker's handle on a batch's buffer keeps that buffer
 * alive for every thread until the worker's own heap is collected, and a worker that mostly
 * receives buffers allocates too little for V8 ever to collect it: a worker given 40 tensors of
 * 8 MiB kept all 320 MiB alive, and the data bench's route pipeline grew the process by about
 * 90 MiB a run (780 MiB to 1.4 GiB over 8 runs; it stays near 800 MiB with this).
 *
 * @example
 * ```ts
 * noteShared(tensor.data.byteLength); // a tensor just arrived from the main thread
 * ```
 */
export function noteShared(bytes: number): void {
  sinceLast += bytes;
  if (sinceLast >= COLLECT_EVERY_BYTES) {
    sinceLast = 0;
    const gc = gcFunction();
    // A worker's handles on buffers outlive a young collection (its tasks wait for their inputs
    // long enough for V8 to promote them), and its heap is a few MiB: a full collection there is
    // cheap and frees them. The main thread's heap holds the user's objects: young only.
    gc?.({ type: isMainThread ? 'minor' : 'major' });
  }
}
