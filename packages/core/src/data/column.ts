/**
 * A column of a table: its values as a {@link Tensor} on shared memory (so kernels, workers and
 * GPUs read it without a copy), a validity mask when some values are null, and for strings the
 * dictionary their int32 codes index.
 */
import { Tensor, type DType } from '../tensor/tensor.ts';

/** What a column holds. Booleans are stored as uint8 0/1, timestamps as float64 milliseconds since the epoch, strings as int32 dictionary codes. */
export type ColumnType = 'float64' | 'float32' | 'int32' | 'uint8' | 'bool' | 'timestamp' | 'string';

export const COLUMN_TYPES: readonly ColumnType[] = ['float64', 'float32', 'int32', 'uint8', 'bool', 'timestamp', 'string'];

/** The tensor dtype each column type is stored as. */
export const STORAGE: Readonly<Record<ColumnType, DType>> = {
  float64: 'float64', float32: 'float32', int32: 'int32', uint8: 'uint8', bool: 'uint8', timestamp: 'float64', string: 'int32',
};

/**
 * One column of a record batch.
 *
 * @example
 * ```ts
 * const delay = batch.columns.get('delay')!;
 * if (delay.type === 'float64') console.log(delay.values.data[0]);
 * ```
 */
export interface Column {
  readonly type: ColumnType;
  /** One value per row; for strings the code of each row's string in {@link Column.dictionary}. */
  readonly values: Tensor;
  /** 1 where the row has a value, 0 where it is null; absent when no row is null. */
  readonly validity?: Uint8Array;
  /**
   * The strings codes index (string columns only). Shared by every batch of the column read from
   * one source, and only ever appended to, so codes mean the same string in every batch.
   */
  readonly dictionary?: Dictionary;
}

/**
 * Strings interned to dense int32 codes, append-only: a column's batches share one, so group-by
 * and join compare codes, not strings.
 *
 * @example
 * ```ts
 * const d = new Dictionary();
 * d.code('SFO'); // 0
 * d.code('LAX'); // 1
 * d.code('SFO'); // 0
 * d.values[1];   // 'LAX'
 * ```
 */
export class Dictionary {
  readonly values: string[] = [];
  private readonly codes = new Map<string, number>();

  /** The code of `s`, adding it if it is new. */
  code(s: string): number {
    let c = this.codes.get(s);
    if (c === undefined) {
      c = this.values.length;
      this.values.push(s);
      this.codes.set(s, c);
    }
    return c;
  }

  /** The code of `s`, or -1 if the dictionary doesn't hold it. */
  find(s: string): number {
    return this.codes.get(s) ?? -1;
  }

  get size(): number {
    return this.values.length;
  }
}

/** Rows of `column` as a JS value each (null where invalid): strings for strings, booleans for bools, Dates for timestamps. */
export function valueAt(column: Column, row: number): number | string | boolean | Date | null {
  if (column.validity && column.validity[row] === 0) return null;
  const v = column.values.data[row]!;
  switch (column.type) {
    case 'string': return column.dictionary!.values[v]!;
    case 'bool': return v !== 0;
    case 'timestamp': return new Date(v);
    default: return v;
  }
}

/** A column of `type` over `values` (wrapped, not copied), with optional validity and dictionary. */
export function makeColumn(type: ColumnType, values: Tensor, validity?: Uint8Array, dictionary?: Dictionary): Column {
  return { type, values, ...(validity ? { validity } : {}), ...(dictionary ? { dictionary } : {}) };
}

/** Rows [start, end) of `column`, as views of the same memory. */
export function sliceColumn(column: Column, start: number, end: number): Column {
  const data = column.values.data.subarray(start, end);
  return makeColumn(column.type, new Tensor(column.values.dtype, [end - start], data), column.validity?.subarray(start, end), column.dictionary);
}

/** The rows `rows` of `column`, in that order, copied to fresh shared memory. */
export function gatherColumn(column: Column, rows: Int32Array | Uint32Array): Column {
  const { values, validity } = gatherValues(column.values, column.validity, rows);
  return makeColumn(column.type, values, validity, column.dictionary);
}

/** The rows `rows` of `values` (and of its validity, when given), in that order, in fresh memory (the values shared). */
export function gatherValues(values: Tensor, validity: Uint8Array | undefined, rows: Int32Array | Uint32Array): { values: Tensor; validity?: Uint8Array } {
  const out = Tensor.zeros([rows.length], values.dtype);
  const src = values.data;
  const dst = out.data;
  for (let i = 0; i < rows.length; i++) dst[i] = src[rows[i]!]!;
  if (!validity) return { values: out };
  const valid = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) valid[i] = validity[rows[i]!]!;
  return { values: out, validity: valid };
}

/** `columns` of one type, rows one after another, in fresh shared memory. */
export function concatColumns(columns: readonly Column[], type: ColumnType): Column {
  const rows = columns.reduce((n, c) => n + c.values.size, 0);
  const out = Tensor.zeros([rows], STORAGE[type]);
  const anyNull = columns.some((c) => c.validity);
  const validity = anyNull ? new Uint8Array(rows).fill(1) : undefined;
  let at = 0;
  for (const c of columns) {
    out.data.set(c.values.data as never, at);
    if (c.validity) validity!.set(c.validity, at);
    at += c.values.size;
  }
  return makeColumn(type, out, validity, columns[0]?.dictionary);
}

/** Bytes a column's data takes (values and validity). */
export function columnBytes(column: Column): number {
  return column.values.data.byteLength + (column.validity?.byteLength ?? 0);
}
