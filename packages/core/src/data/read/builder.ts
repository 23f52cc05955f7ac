/** Builds a batch row by row from parsed text values (CSV, JSON lines). */
import { Tensor } from '../../tensor/tensor.ts';
import { makeColumn, STORAGE, type Column, type ColumnType, type Dictionary } from '../column.ts';
import type { Batch, Schema } from '../batch.ts';
import { sharedBuffer } from '../../tensor/shared-memory.ts';

export class BatchBuilder {
  private readonly values: (Float64Array | Int32Array | Uint8Array)[];
  private readonly validity: Uint8Array[];
  private readonly nulls: boolean[];
  rows = 0;

  constructor(private readonly schema: Schema, private readonly dictionaries: ReadonlyMap<string, Dictionary>, private readonly capacity: number) {
    this.values = [...schema.values()].map((t) => {
      const C = { float64: Float64Array, int32: Int32Array, uint8: Uint8Array }[STORAGE[t] as 'float64' | 'int32' | 'uint8'];
      return new (C as new (b: ArrayBufferLike) => Float64Array | Int32Array | Uint8Array)(sharedBuffer(capacity * C.BYTES_PER_ELEMENT));
    });
    this.validity = [...schema.values()].map(() => new Uint8Array(capacity).fill(1));
    this.nulls = [...schema.values()].map(() => false);
  }

  get full(): boolean {
    return this.rows >= this.capacity;
  }

  /** Appends one row: a number per column (a dictionary code for strings), or null. */
  push(row: readonly (number | null)[]): void {
    for (let c = 0; c < row.length; c++) {
      const v = row[c];
      if (v === null || v === undefined) {
        this.validity[c]![this.rows] = 0;
        this.nulls[c] = true;
      } else this.values[c]![this.rows] = v;
    }
    this.rows++;
  }

  /** The rows so far as a batch (views of this builder's memory: start a new builder after). */
  finish(): Batch {
    const columns = new Map<string, Column>();
    [...this.schema].forEach(([name, type], c) => {
      const data = this.values[c]!.subarray(0, this.rows);
      const values = new Tensor(STORAGE[type as ColumnType], [this.rows], data as never);
      columns.set(name, makeColumn(type, values, this.nulls[c] ? this.validity[c]!.subarray(0, this.rows) : undefined, this.dictionaries.get(name)));
    });
    return { rows: this.rows, columns };
  }
}
