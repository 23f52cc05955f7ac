import { ArgumentError } from '../errors.ts';
import { Tensor, type AnyTypedArray, type DType } from '../tensor/tensor.ts';
import { noteShared } from '../tensor/shared-memory.ts';

/**
 * How a Tensor travels: structured clone drops the class, so it goes as a branded record and is
 * rebuilt on the other side. Between threads `data` stays on the same SharedArrayBuffer; to a
 * process (no shared memory) it is a copy, and the worker's copy is written back after the task.
 */
export interface TensorRecord {
  readonly __tandemTensor: 1;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: AnyTypedArray;
}

export type WireMode = 'shared' | 'copy';

const plainProto = Object.prototype;

/** One walk's memory: shared references stay shared, cycles end. */
interface Walk {
  /** Objects already walked (or being walked: {@link IN_PROGRESS}), and what each became. */
  readonly seen: Map<object, unknown>;
  /** Objects that a descendant referred back to. */
  readonly cycleTargets: Set<object>;
}
/** Marks an object whose walk has begun but not ended: meeting it again means a cycle. */
const IN_PROGRESS = Symbol('in progress');

/**
 * Walks `value` once: throws an {@link ArgumentError} naming the path of anything that cannot be
 * structured-cloned, and replaces every Tensor by its record. Returns the value unchanged (same
 * identity) when it holds no tensor, so the common case allocates nothing. Like structured clone
 * it accepts cycles and shared references; a tensor inside a cycle is refused, since the copy
 * that carries its record could not close the cycle.
 */
export function encodeValue(value: unknown, path: string, mode: WireMode, found: Tensor[] | null,
  walk: Walk = { seen: new Map(), cycleTargets: new Set() }): unknown {
  switch (typeof value) {
    case 'function':
      throw new ArgumentError(path, 'a value that can be sent to a worker (structured-cloneable); functions cannot be', value);
    case 'symbol':
      throw new ArgumentError(path, 'a value that can be sent to a worker (structured-cloneable); symbols cannot be', String(value));
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null || ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
    return value;
  }
  const before = walk.seen.get(value);
  if (before === IN_PROGRESS) {
    walk.cycleTargets.add(value);
    return value;
  }
  if (before !== undefined) return before;
  walk.seen.set(value, IN_PROGRESS);
  const encoded = encodeObject(value, path, mode, found, walk);
  if (encoded !== value && walk.cycleTargets.has(value)) {
    throw new ArgumentError(path, 'tensors outside cycles: this value refers back to itself and holds a tensor');
  }
  walk.seen.set(value, encoded);
  return encoded;
}

function encodeObject(value: object, path: string, mode: WireMode, found: Tensor[] | null, walk: Walk): unknown {
  if (value instanceof Tensor) {
    // Inside a Map or Set a tensor would arrive as a plain record, never rebuilt: refuse it.
    if (!found) throw new ArgumentError(path, 'tensors directly in arguments, arrays or plain objects (not inside a Map or Set)');
    found.push(value);
    const record: TensorRecord = {
      __tandemTensor: 1,
      dtype: value.dtype,
      shape: value.shape,
      data: mode === 'copy' && value.shared ? value.data.slice() : value.data,
    };
    return record;
  }
  if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    throw new ArgumentError(path, `a value that can be sent to a worker (structured-cloneable); a ${value.constructor.name} cannot be`, value);
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== 'object' && typeof item !== 'function' && typeof item !== 'symbol') continue;
      const encoded = encodeValue(item, `${path}[${i}]`, mode, found, walk);
      if (encoded !== item) (out ??= value.slice())[i] = encoded;
    }
    return out ?? value;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      encodeValue(k, `${path}.<key>`, mode, null, walk);
      encodeValue(v, `${path}.get(${String(k)})`, mode, null, walk);
    }
    return value;
  }
  if (value instanceof Set) {
    for (const v of value) encodeValue(v, `${path}.<item>`, mode, null, walk);
    return value;
  }
  if (value instanceof Date || value instanceof RegExp || value instanceof Error) return value;
  // A class instance arrives as a plain object either way; a copy is built only when it held a tensor.
  let out: Record<string, unknown> | undefined;
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const item = obj[key];
    if (typeof item !== 'object' && typeof item !== 'function' && typeof item !== 'symbol') continue;
    const encoded = encodeValue(item, `${path}.${key}`, mode, found, walk);
    if (encoded !== item) (out ??= { ...obj })[key] = encoded;
  }
  return out ?? value;
}

/** Shared memory that arrived from another thread counts toward this thread's collections (see `noteShared`). */
function noteReceived(view: ArrayBufferView): void {
  if (view.buffer instanceof SharedArrayBuffer) noteShared(view.byteLength);
}

/**
 * Rebuilds Tensors from their records, collecting them in walk order. Mirrors {@link encodeValue}:
 * each object is walked once, so cycles end and a record met twice becomes one Tensor.
 */
export function decodeValue(value: unknown, found: Tensor[], seen: Map<object, unknown> = new Map()): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value)) {
    noteReceived(value);
    return value;
  }
  const before = seen.get(value);
  if (before !== undefined) return before;
  if ((value as Partial<TensorRecord>).__tandemTensor === 1) {
    const r = value as TensorRecord;
    noteReceived(r.data);
    const t = new Tensor(r.dtype, r.shape, r.data as never);
    found.push(t);
    seen.set(value, t);
    return t;
  }
  seen.set(value, value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) value[i] = decodeValue(item, found, seen);
    }
    return value;
  }
  if (Object.getPrototypeOf(value) !== plainProto) return value;
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const item = obj[key];
    if (typeof item === 'object' && item !== null) obj[key] = decodeValue(item, found, seen);
  }
  return value;
}

/** After a copy-mode task: copies each worker-side tensor's data back into the caller's tensor. */
export function writeBack(targets: readonly Tensor[], data: readonly AnyTypedArray[]): void {
  for (let i = 0; i < targets.length; i++) {
    const src = data[i];
    const dst = targets[i];
    if (src && dst && src !== dst.data) (dst.data as unknown as { set(a: ArrayLike<number>): void }).set(src);
  }
}
