import { sharedBuffer } from '../../tensor/shared-memory.ts';

/** Bytes copied onto shared memory, so that Arrow's views of them can become tensors without another copy. */
export function sharedCopy(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(sharedBuffer(bytes.byteLength));
  out.set(bytes);
  return out;
}
