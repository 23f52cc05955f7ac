/**
 * The row pass of a lookup join (each left key matches at most one right row): every left row's
 * right row, and, when every row matched, the right table's columns gathered at them. Runs in the
 * join's thread for small batches and in the session's CPU workers for large ones, as a filter's
 * comparisons do (compare-rows.ts): the key codes and the right table lie in shared memory, the
 * gathered columns are made in shared memory, and the main thread, which a streamed pipeline's
 * stages share, is left free. On 2 cores the main thread's gathers took a third of a join + kernel
 * query whose kernel the workers ran.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import { gatherValues } from '../column.ts';

/** One right column to gather: its values and, when it has nulls, its validity. */
export interface RightColumn {
  readonly values: Tensor;
  readonly validity: Uint8Array | null;
}

/** Either every row matched, and the right columns come gathered, or some missed, and the rows come. */
export type LookupRows =
  | { readonly misses: 0; readonly gathered: ReadonlyArray<{ readonly values: Tensor; readonly validity?: Uint8Array }> }
  | { readonly misses: number; readonly rightRows: Int32Array };

/** Each left row's right row through `firstByCode` (the right row of each left key code, -1 for none). */
export function matchRows(codes: ArrayLike<number>, rows: number, firstByCode: Int32Array): { rightRows: Int32Array; misses: number } {
  const rightRows = new Int32Array(rows);
  let misses = 0;
  for (let r = 0; r < rows; r++) {
    const m = firstByCode[codes[r]!]!;
    rightRows[r] = m;
    misses += +(m < 0);
  }
  return { rightRows, misses };
}

/**
 * A worker task: {@link matchRows} over `codes`, and the `right` columns gathered at the matches
 * when every row matched (a miss changes which left rows are kept: the join's thread does that).
 */
export function lookupRows(codes: Tensor, firstByCode: Int32Array, right: readonly RightColumn[]): LookupRows {
  const { rightRows, misses } = matchRows(codes.data, codes.size, firstByCode);
  if (misses > 0) return { misses, rightRows };
  return { misses: 0, gathered: right.map((c) => gatherValues(c.values, c.validity ?? undefined, rightRows)) };
}
