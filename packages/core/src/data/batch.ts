/**
 * A record batch: a run of rows of a table, column by column. Tables stream as batches; each
 * stage takes batches and gives batches.
 */
import { columnBytes, sliceColumn, type Column, type ColumnType } from './column.ts';

/**
 * Rows of a table, as named columns of equal length.
 *
 * @example
 * ```ts
 * for await (const batch of table.batches()) console.log(batch.rows, [...batch.columns.keys()]);
 * ```
 */
export interface Batch {
  readonly rows: number;
  readonly columns: ReadonlyMap<string, Column>;
}

/** A table's column names and types, in order. */
export type Schema = ReadonlyMap<string, ColumnType>;

export function schemaOf(batch: Batch): Schema {
  return new Map([...batch.columns].map(([name, c]) => [name, c.type]));
}

/** The bytes a batch's columns take: what read-ahead and queues count. */
export function batchBytes(batch: Batch): number {
  let n = 0;
  for (const c of batch.columns.values()) n += columnBytes(c);
  return n;
}

/** Rows [start, end) of a batch, as views of the same memory. */
export function sliceBatch(batch: Batch, start: number, end: number): Batch {
  const columns = new Map<string, Column>();
  for (const [name, c] of batch.columns) columns.set(name, sliceColumn(c, start, end));
  return { rows: end - start, columns };
}

/** Describes a schema for messages: `delay: float64, origin: string`. */
export function describeSchema(schema: Schema): string {
  return [...schema].map(([n, t]) => `${n}: ${t}`).join(', ');
}
