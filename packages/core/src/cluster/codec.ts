/**
 * Task arguments and results as JSON for BullMQ's job data: numbers, strings, booleans, null,
 * arrays and plain objects as they are; tensors, typed arrays and ArrayBuffers by reference to
 * the blob store (inline as base64 when under 4 KiB, where a Redis round trip costs more than the
 * bytes); undefined, NaN/±Infinity, bigint, Date, Map and Set tagged so they come back as they
 * went; errors through Tandem's error serialisation, so `instanceof` holds on the caller's side.
 */
import { ArgumentError, deserializeError, serializeError, type SerializedError } from '../errors.ts';
import { Tensor, typedArrayFor, type DType } from '../tensor/tensor.ts';
import type { BlobRef, BlobStore } from './blob-store.ts';
import { sharedBuffer } from '../tensor/shared-memory.ts';

const INLINE_BYTES = 4096;
const TAG = '$tandem';

type Bytes = { readonly inline: string } | BlobRef;
type Encoded = unknown;

const TYPED: Record<string, new (b: ArrayBufferLike, o?: number, n?: number) => ArrayBufferView> = {
  Float32Array, Float64Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array, Uint8ClampedArray, BigInt64Array, BigUint64Array,
};

async function bytesOut(view: Uint8Array, store: BlobStore): Promise<Bytes> {
  return view.byteLength <= INLINE_BYTES ? { inline: Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64') } : store.put(view);
}

async function bytesIn(b: Bytes, store: BlobStore): Promise<Uint8Array> {
  if ('inline' in b) {
    const raw = Buffer.from(b.inline, 'base64');
    const out = new Uint8Array(sharedBuffer(raw.byteLength));
    out.set(raw);
    return out;
  }
  return store.get(b);
}

const viewBytes = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** `value` as JSON-safe data, large binary parts stored in `store`. */
export async function encode(value: unknown, store: BlobStore, path = 'value', depth = 0): Promise<Encoded> {
  if (depth > 64) throw new ArgumentError(path, 'data nested at most 64 levels deep', value);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { [TAG]: 'number', v: String(value) };
  if (value === undefined) return { [TAG]: 'undefined' };
  if (typeof value === 'bigint') return { [TAG]: 'bigint', v: value.toString() };
  if (value instanceof Tensor) return { [TAG]: 'tensor', dtype: value.dtype, shape: [...value.shape], bytes: await bytesOut(viewBytes(value.data), store) };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return { [TAG]: 'typed', type: value.constructor.name, bytes: await bytesOut(viewBytes(value), store) };
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return { [TAG]: value instanceof ArrayBuffer ? 'buffer' : 'shared', bytes: await bytesOut(new Uint8Array(value), store) };
  if (value instanceof Date) return { [TAG]: 'date', v: value.getTime() };
  if (value instanceof Error) return { [TAG]: 'error', v: await encode(serializeError(value), store, path, depth + 1) };
  if (value instanceof Map) return { [TAG]: 'map', v: await encode([...value], store, path, depth + 1) };
  if (value instanceof Set) return { [TAG]: 'set', v: await encode([...value], store, path, depth + 1) };
  if (Array.isArray(value)) return Promise.all(value.map((v, i) => encode(v, store, `${path}[${i}]`, depth + 1)));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new ArgumentError(path, 'plain data, tensors or typed arrays (class instances other than those do not cross machines)', value);
    const out: Record<string, Encoded> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await encode(v, store, `${path}.${k}`, depth + 1);
    // A user object that happens to have our tag key is wrapped, so it is not read as a tagged value.
    return TAG in out ? { [TAG]: 'object', v: out } : out;
  }
  throw new ArgumentError(path, 'data that can cross machines (no functions or symbols)', value);
}

/** The value `encode` was given, fetching blobs from `store`. */
export async function decode(data: Encoded, store: BlobStore): Promise<unknown> {
  if (data === null || typeof data !== 'object') return data;
  if (Array.isArray(data)) return Promise.all(data.map((d) => decode(d, store)));
  const o = data as Record<string, unknown>;
  const tag = o[TAG];
  if (tag === undefined) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = await decode(v, store);
    return out;
  }
  switch (tag) {
    case 'number': return Number(o.v);
    case 'undefined': return undefined;
    case 'bigint': return BigInt(o.v as string);
    case 'date': return new Date(o.v as number);
    case 'tensor': {
      const bytes = await bytesIn(o.bytes as Bytes, store);
      const Ctor = typedArrayFor(o.dtype as DType);
      return new Tensor(o.dtype as DType, o.shape as number[], new (Ctor as unknown as new (b: ArrayBufferLike, o: number, n: number) => ArrayBufferView)(bytes.buffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT) as never);
    }
    case 'typed': {
      const Ctor = TYPED[o.type as string];
      if (!Ctor) throw new ArgumentError('value', 'a known typed array', o.type);
      const bytes = await bytesIn(o.bytes as Bytes, store);
      const size = (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      return new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / size);
    }
    case 'buffer': {
      const bytes = await bytesIn(o.bytes as Bytes, store);
      return bytes.slice().buffer;
    }
    case 'shared': return (await bytesIn(o.bytes as Bytes, store)).buffer;
    case 'error': return deserializeError((await decode(o.v, store)) as SerializedError);
    case 'map': return new Map((await decode(o.v, store)) as [unknown, unknown][]);
    case 'set': return new Set((await decode(o.v, store)) as unknown[]);
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(o.v as Record<string, unknown>)) out[k] = await decode(v, store);
      return out;
    }
    default: throw new ArgumentError('value', 'data encoded by Tandem', tag);
  }
}
