/**
 * Apache Arrow record batches → Tandem batches. Numeric columns whose Arrow buffer already lives on
 * shared memory at an aligned offset are wrapped, not copied (the readers put file bytes on shared
 * memory first for this); everything else is copied once onto shared memory. 64-bit integers and
 * timestamps become float64 (exact up to 2^53; timestamps in milliseconds); strings are interned
 * into the column's dictionary.
 */
import * as arrow from 'apache-arrow';
import { Tensor } from '../../tensor/tensor.ts';
import { COLUMN_TYPES, makeColumn, type Column, type ColumnType, Dictionary } from '../column.ts';
import type { Batch, Schema } from '../batch.ts';
import { internUtf8 } from './intern.ts';

/** Why an Arrow column can't become a Tandem column, or its type. */
export function columnTypeOf(type: arrow.DataType): ColumnType | string {
  if (arrow.DataType.isDictionary(type)) return arrow.DataType.isUtf8(type.dictionary) || arrow.DataType.isLargeUtf8(type.dictionary) ? 'string' : `a dictionary of ${type.dictionary}`;
  if (arrow.DataType.isFloat(type)) return type.precision === arrow.Precision.SINGLE ? 'float32' : type.precision === arrow.Precision.DOUBLE ? 'float64' : 'float32';
  if (arrow.DataType.isInt(type)) {
    if (type.bitWidth === 64) return 'float64';
    if (type.bitWidth === 8 && !type.isSigned) return 'uint8';
    if (type.bitWidth === 32 && !type.isSigned) return 'float64';
    return 'int32';
  }
  if (arrow.DataType.isBool(type)) return 'bool';
  if (arrow.DataType.isTimestamp(type) || arrow.DataType.isDate(type)) return 'timestamp';
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type)) return 'string';
  return `Arrow type ${type}`;
}

/** Units per millisecond (a divisor, so that microseconds divide exactly where they can). */
/**
 * The Tandem schema of an Arrow schema; `unsupported` names the first column Tandem can't hold
 * and why, for the caller's error.
 */
export function schemaOfArrow(schema: arrow.Schema): { schema: Schema; unsupported?: { column: string; why: string } } {
  const out = new Map<string, ColumnType>();
  for (const f of schema.fields) {
    const type = columnTypeOf(f.type);
    if (!isColumnType(type)) return { schema: out, unsupported: { column: f.name, why: `${type} is not supported (numbers, booleans, dates/timestamps and strings are)` } };
    out.set(f.name, type);
  }
  return { schema: out };
}

const PER_MS: Record<number, number> = {
  [arrow.TimeUnit.SECOND]: 1e-3, [arrow.TimeUnit.MILLISECOND]: 1, [arrow.TimeUnit.MICROSECOND]: 1e3, [arrow.TimeUnit.NANOSECOND]: 1e6,
};

/**
 * Converts one Arrow record batch (only the fields `only` names, when given). `dictionaries` holds each string column's dictionary across the
 * batches of one source (created on first use). Throws `Error` naming the column for a type Tandem
 * doesn't hold.
 */
export function fromArrowBatch(batch: arrow.RecordBatch, dictionaries: Map<string, Dictionary>, only?: readonly string[]): Batch {
  const columns = new Map<string, Column>();
  // Fields are picked here rather than with RecordBatch.select, which drops dictionaries (apache-arrow 21).
  batch.schema.fields.forEach((field, i) => {
    if (only && !only.includes(field.name)) return;
    const vector = batch.getChildAt(i)!;
    const data = vector.data[0]!;
    const type = columnTypeOf(field.type);
    if (!isColumnType(type)) throw new Error(`column '${field.name}': ${type} is not supported (numbers, booleans, dates/timestamps and strings are)`);
    let dictionary: Dictionary | undefined;
    if (type === 'string') {
      dictionary = dictionaries.get(field.name);
      if (!dictionary) dictionaries.set(field.name, (dictionary = new Dictionary()));
    }
    columns.set(field.name, convert(data, type, dictionary));
  });
  return { rows: batch.numRows, columns };
}

function isColumnType(t: string): t is ColumnType {
  return (COLUMN_TYPES as readonly string[]).includes(t);
}

function convert(data: arrow.Data, type: ColumnType, dictionary: Dictionary | undefined): Column {
  const n = data.length;
  const validity = data.nullCount > 0 ? unpackBits(data.nullBitmap!, data.offset, n) : undefined;
  const t = data.type as arrow.DataType;
  if (type === 'string') return makeColumn('string', strings(data, dictionary!), validity, dictionary);
  if (type === 'bool') {
    const out = Tensor.zeros([n], 'uint8');
    out.data.set(unpackBits(data.values as Uint8Array, data.offset, n));
    return makeColumn('bool', out, validity);
  }
  if (arrow.DataType.isTimestamp(t) || arrow.DataType.isDate(t)) {
    const days = arrow.DataType.isDate(t) && t.unit === arrow.DateUnit.DAY;
    const wide = (data.values as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT === 8;
    const out = wide ? int64ToFloat64(data.values as unknown as BigInt64Array, data.offset, n) : Tensor.from((data.values as Int32Array).subarray(data.offset, data.offset + n), [n], 'float64');
    const perMs = arrow.DataType.isTimestamp(t) ? PER_MS[t.unit]! : 1;
    if (days) for (let i = 0; i < n; i++) out.data[i] = out.data[i]! * 86_400_000;
    else if (perMs !== 1) for (let i = 0; i < n; i++) out.data[i] = out.data[i]! / perMs;
    return makeColumn('timestamp', out, validity);
  }
  if (arrow.DataType.isInt(t) && (t.bitWidth === 64 || (t.bitWidth === 32 && !t.isSigned))) {
    if (t.bitWidth === 64) return makeColumn('float64', int64ToFloat64(data.values as unknown as BigInt64Array, data.offset, n, t.isSigned), validity);
    return makeColumn('float64', Tensor.from((data.values as Uint32Array).subarray(data.offset, data.offset + n), [n], 'float64'), validity);
  }
  const storage = type === 'float64' ? 'float64' : type === 'float32' ? 'float32' : type === 'uint8' ? 'uint8' : 'int32';
  const values = (data.values as Float64Array).subarray(data.offset, data.offset + n);
  // Zero-copy: the right typed array on shared memory (Int8/Int16 and half floats are widened below).
  const Ctor = { float64: Float64Array, float32: Float32Array, uint8: Uint8Array, int32: Int32Array }[storage];
  if (values instanceof Ctor && values.buffer instanceof SharedArrayBuffer) return makeColumn(type, new Tensor(storage, [n], values as never), validity);
  const out = Tensor.zeros([n], storage);
  if (arrow.DataType.isFloat(t) && t.precision === arrow.Precision.HALF) {
    for (let i = 0; i < n; i++) out.data[i] = arrow.util.uint16ToFloat64((values as unknown as Uint16Array)[i]!);
  } else out.data.set(values as never);
  return makeColumn(type, out, validity);
}

/** Int64 values (two's complement, little-endian) as float64, without a BigInt per value. */
function int64ToFloat64(values: BigInt64Array | BigUint64Array, offset: number, n: number, signed = true): Tensor<'float64'> {
  const words = new Int32Array(values.buffer, values.byteOffset + offset * 8, n * 2);
  const out = Tensor.zeros([n], 'float64');
  const d = out.data;
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]! >>> 0;
    const hi = signed ? words[2 * i + 1]! : words[2 * i + 1]! >>> 0;
    d[i] = hi * 4294967296 + lo;
  }
  return out;
}

function unpackBits(bits: Uint8Array, offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const b = offset + i;
    out[i] = (bits[b >> 3]! >> (b & 7)) & 1;
  }
  return out;
}

function strings(data: arrow.Data, dictionary: Dictionary): Tensor<'int32'> {
  const n = data.length;
  const out = Tensor.zeros([n], 'int32');
  const t = data.type as arrow.DataType;
  if (arrow.DataType.isDictionary(t)) {
    // Map the batch's dictionary to the column's once, then each row is a lookup.
    const dict = data.dictionary!;
    const local = new Int32Array(dict.length);
    for (let i = 0; i < dict.length; i++) local[i] = dictionary.code(String(dict.get(i) ?? ''));
    const idx = (data.values as Int32Array).subarray(data.offset, data.offset + n);
    for (let i = 0; i < n; i++) out.data[i] = local[Number(idx[i]!)]!;
    return out;
  }
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  // LargeUtf8's 64-bit offsets index a buffer under 2 GiB: their low words are the offsets, read
  // without a BigInt per row (converting them one by one took most of a Parquet read).
  const wide = offsets instanceof BigInt64Array;
  const starts = wide ? new Int32Array(offsets.buffer, offsets.byteOffset + data.offset * 8, (n + 1) * 2) : offsets.subarray(data.offset, data.offset + n + 1);
  internUtf8(data.values as Uint8Array, starts, wide ? 2 : 1, n, dictionary, out.data);
  return out;
}
