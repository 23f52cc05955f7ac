/**
 * Binding windows: a kernel sees a slice of a buffer, never more than `maxStorageBufferBindingSize`
 * bytes, starting at an offset the device accepts (`minStorageBufferOffsetAlignment`). A slice that
 * starts between two aligned offsets is bound from the offset below and the shader skips `delta`
 * elements, which is why every shader here takes per-binding deltas in its params.
 */

/** A buffer slice bound to a shader, and where the wanted elements start inside it. */
export interface Window {
  readonly resource: GPUBufferBinding;
  /** Elements between the binding's start and the first wanted element. */
  readonly delta: number;
}

/** Limits the windows obey (bytes). */
export interface WindowLimits {
  readonly maxBindingBytes: number;
  readonly offsetAlign: number;
}

/** The window over `count` 4-byte elements of `buffer` from element `start`. */
export function window(buffer: GPUBuffer, start: number, count: number, limits: WindowLimits): Window {
  const offset = Math.floor((start * 4) / limits.offsetAlign) * limits.offsetAlign;
  const delta = start - offset / 4;
  // A zero-sized binding is invalid; one element of slack keeps empty windows legal.
  const size = Math.max(4, (delta + count) * 4);
  if (size > limits.maxBindingBytes) {
    throw new RangeError(`internal: a window of ${size} bytes exceeds the binding limit ${limits.maxBindingBytes}`);
  }
  return { resource: { buffer, offset, size }, delta };
}

/** Most elements one window may cover wherever it starts (the worst case delta is one alignment step). */
export function windowElements(limits: WindowLimits): number {
  return Math.floor((limits.maxBindingBytes - limits.offsetAlign) / 4);
}

/** Splits `[start, end)` into consecutive pieces of at most `max` elements (multiples of `unit`, bar the last). */
export function chunks(start: number, end: number, max: number, unit = 1): Array<{ start: number; end: number }> {
  const step = Math.max(unit, Math.floor(max / unit) * unit);
  const out: Array<{ start: number; end: number }> = [];
  for (let s = start; s < end; s += step) out.push({ start: s, end: Math.min(end, s + step) });
  return out;
}
