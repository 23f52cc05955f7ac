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

/** Bytes of shared memory allocated between two collections. */
export const COLLECT_EVERY_BYTES = 64 * 1024 * 1024;

/** V8's `gc`: `{ type: 'minor' }` asks for a young-generation collection. */
type Collect = (options: { type: 'minor' }) => void;
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
  sinceLast += bytes;
  if (sinceLast >= COLLECT_EVERY_BYTES) {
    sinceLast = 0;
    const gc = gcFunction();
    gc?.({ type: 'minor' });
  }
  return new SharedArrayBuffer(bytes);
}
