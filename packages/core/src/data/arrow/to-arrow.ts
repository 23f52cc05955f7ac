/**
 * Tandem batches → an Apache Arrow table, wrapping the tensors' memory where Arrow's layout is the
 * same (float64, float32, int32, uint8 columns); booleans are bit-packed, timestamps become
 * TimestampMillisecond (int64), strings Dictionary<Utf8, Int32> over the column's dictionary.
 */
import * as arrow from 'apache-arrow';
import type { Batch, Schema } from '../batch.ts';
import { Dictionary, type Column, type ColumnType } from '../column.ts';

function arrowType(type: ColumnType): arrow.DataType {
  switch (type) {
    case 'float64': return new arrow.Float64();
    case 'float32': return new arrow.Float32();
    case 'int32': return new arrow.Int32();
    case 'uint8': return new arrow.Uint8();
    case 'bool': return new arrow.Bool();
    case 'timestamp': return new arrow.TimestampMillisecond();
    case 'string': return new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
  }
}

/** The Arrow data of one column (all of its rows). */
function columnData(c: Column, dictionaries: ReadonlyMap<string, { vector: arrow.Vector; dictionary: Dictionary }>, name: string): arrow.Data {
  const length = c.values.size;
  const nullBitmap = c.validity ? packBits(c.validity) : undefined;
  const nullCount = c.validity ? length - c.validity.reduce((a, v) => a + v, 0) : 0;
  const common = { length, nullCount, ...(nullBitmap ? { nullBitmap } : {}) };
  switch (c.type) {
    case 'bool':
      return arrow.makeData({ type: new arrow.Bool(), ...common, data: packBits(c.values.data as Uint8Array) });
    case 'timestamp': {
      const ms = new BigInt64Array(length);
      const src = c.values.data;
      for (let i = 0; i < length; i++) ms[i] = BigInt(Math.round(src[i]!));
      return arrow.makeData({ type: new arrow.TimestampMillisecond(), ...common, data: ms });
    }
    case 'string': {
      const { vector, dictionary } = dictionaries.get(name)!;
      let codes = c.values.data as Int32Array;
      if (c.dictionary !== dictionary) {
        // A batch from another dictionary (rare: tables built apart): its codes are remapped.
        const map = Int32Array.from(c.dictionary!.values, (s) => dictionary.code(s));
        codes = codes.map((k) => map[k]!);
      }
      return arrow.makeData({ type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), ...common, data: codes, dictionary: vector });
    }
    default:
      return arrow.makeData({ type: arrowType(c.type) as arrow.Float64, ...common, data: c.values.data as Float64Array });
  }
}

function packBits(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array((bytes.length + 7) >> 3);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** An Arrow table of `batches` (one record batch each), with `schema`'s columns. */
export function toArrowTable(schema: Schema, batches: readonly Batch[]): arrow.Table {
  const fields = [...schema].map(([name, type]) => new arrow.Field(name, arrowType(type), true));
  const arrowSchema = new arrow.Schema(fields);
  // One dictionary per string column for every batch: the column's own (batches of one source
  // share it, and it only grows), taken as it stands after the last batch.
  const strings = [...schema].filter(([, t]) => t === 'string').map(([name]) => name);
  const dictionaries = new Map(strings.map((name) => {
    const dictionary = batches.find((b) => b.columns.get(name)!.dictionary)?.columns.get(name)!.dictionary ?? new Dictionary();
    return [name, dictionary] as const;
  }));
  const converted = batches.map((b) => ({ b, pending: [...schema.keys()] }));
  // Remapping may add strings: make the vectors after every batch has been looked at.
  for (const { b } of converted) for (const name of strings) {
    const c = b.columns.get(name)!;
    if (c.dictionary && c.dictionary !== dictionaries.get(name)) for (const s of c.dictionary.values) dictionaries.get(name)!.code(s);
  }
  const vectors = new Map([...dictionaries].map(([name, dictionary]) => [name, { dictionary, vector: arrow.vectorFromArray(dictionary.values.slice(), new arrow.Utf8()) }] as const));
  const records = converted.map(({ b, pending }) => {
    const children = pending.map((name) => columnData(b.columns.get(name)!, vectors, name));
    const struct = arrow.makeData({ type: new arrow.Struct(fields), length: b.rows, nullCount: 0, children });
    return new arrow.RecordBatch(arrowSchema, struct);
  });
  return new arrow.Table(arrowSchema, records);
}
