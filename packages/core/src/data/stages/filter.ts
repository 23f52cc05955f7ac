/**
 * `filter`: keeps the rows a predicate accepts — a comparison of a column with a value, computed
 * here in one pass, or a user kernel returning non-zero for rows to keep, placed by the planner
 * like any `td.map`. Rows where a column the predicate reads is null are dropped.
 */
import { ArgumentError } from '../../errors.ts';
import type { UserKernel } from '../../kernel/user.ts';
import type { Batch, Schema } from '../batch.ts';
import { gatherColumn, type Column } from '../column.ts';
import { requireColumns, NUMERIC } from './columns.ts';
import { neededBefore, perBatch, type Stage } from './stage.ts';
import { asFloat32 } from './with-column.ts';

/** Comparisons `filter(column, op, value)` takes. */
export type Comparison = '==' | '!=' | '<' | '<=' | '>' | '>=';
const COMPARISONS: readonly Comparison[] = ['==', '!=', '<', '<=', '>', '>='];

export function compareStage(schema: Schema, column: string, op: unknown, value: unknown): Stage {
  requireColumns(schema, column, 'column');
  if (!COMPARISONS.includes(op as Comparison)) throw new ArgumentError('op', `one of ${COMPARISONS.join(' ')}`, op);
  const type = schema.get(column)!;
  if (type === 'string') {
    if (typeof value !== 'string') throw new ArgumentError('value', `a string (column '${column}' holds strings)`, value);
    if (op !== '==' && op !== '!=') throw new ArgumentError('op', `== or != for the string column '${column}'`, op);
  } else if (!(typeof value === 'number' || typeof value === 'boolean' || value instanceof Date)) {
    throw new ArgumentError('value', `a number${type === 'bool' ? ' or boolean' : type === 'timestamp' ? ' or Date' : ''} (column '${column}' is ${type})`, value);
  }
  return {
    needs: (output) => neededBefore(output, [column]),
    label: `filter ${column} ${op} ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
    schema,
    run: (input, context) => perBatch(input, context, (b) => {
      const c = b.columns.get(column)!;
      const target = type === 'string' ? c.dictionary!.find(value as string) : Number(value instanceof Date ? value.getTime() : value);
      const keep = new Int32Array(b.rows);
      const n = matching(op as Comparison, c.values.data, b.rows, target, c.validity, keep);
      return keepRows(b, keep.subarray(0, n));
    }),
  };
}

/**
 * Writes the rows i where `v[i] op target` and the row is valid into `keep`; returns how many.
 * A loop per comparison, not a comparator called per row: the filter is one pass over a column,
 * and a call per row is most of its cost.
 */
function matching(op: Comparison, v: ArrayLike<number>, rows: number, target: number, validity: Uint8Array | undefined, keep: Int32Array): number {
  let n = 0;
  switch (op) {
    case '==': for (let i = 0; i < rows; i++) if (v[i] === target) keep[n++] = i; break;
    case '!=': for (let i = 0; i < rows; i++) if (v[i] !== target) keep[n++] = i; break;
    case '<': for (let i = 0; i < rows; i++) if (v[i]! < target) keep[n++] = i; break;
    case '<=': for (let i = 0; i < rows; i++) if (v[i]! <= target) keep[n++] = i; break;
    case '>': for (let i = 0; i < rows; i++) if (v[i]! > target) keep[n++] = i; break;
    case '>=': for (let i = 0; i < rows; i++) if (v[i]! >= target) keep[n++] = i; break;
  }
  if (!validity) return n;
  let m = 0;
  for (let k = 0; k < n; k++) if (validity[keep[k]!]) keep[m++] = keep[k]!;
  return m;
}

export function kernelFilterStage(schema: Schema, predicate: UserKernel, columns: unknown): Stage {
  const names = requireColumns(schema, columns, 'columns', NUMERIC.filter((t) => t !== 'timestamp').concat('string'));
  return {
    needs: (output) => neededBefore(output, names),
    label: `filter ${predicate.name}(${names.join(', ')})`,
    schema,
    run: (input, context) => perBatch(input, context, async (b) => {
      const inputs = names.map((n) => b.columns.get(n)!);
      const mask = (await context.session.map(predicate, inputs.map((c) => asFloat32(c.values)), { output: [b.rows] })).data;
      const keep = new Int32Array(b.rows);
      let n = 0;
      for (let i = 0; i < b.rows; i++) if (mask[i] !== 0 && !Number.isNaN(mask[i]) && inputs.every((c) => !c.validity || c.validity[i])) keep[n++] = i;
      return keepRows(b, keep.subarray(0, n));
    }),
  };
}

/** The rows `keep` of `b` (all of `b` itself when nothing is dropped). */
export function keepRows(b: Batch, keep: Int32Array): Batch {
  if (keep.length === b.rows) return b;
  const columns = new Map<string, Column>();
  for (const [name, c] of b.columns) columns.set(name, gatherColumn(c, keep));
  return { rows: keep.length, columns };
}
