/**
 * `filter`: keeps the rows a predicate accepts — a comparison of a column with a value, computed
 * in one pass over the column (in CPU workers for large batches: compare-rows.ts), or a user
 * kernel returning non-zero for rows to keep, placed by the planner like any `td.map`. Rows
 * where a column the predicate reads is null are dropped.
 */
import { extname } from 'node:path';
import { ArgumentError } from '../../errors.ts';
import type { UserKernel } from '../../kernel/user.ts';
import type { Batch, Schema } from '../batch.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { gatherColumn, type Column } from '../column.ts';
import { requireColumns, NUMERIC } from './columns.ts';
import { neededBefore, perBatch, type Stage } from './stage.ts';
import { COMPARISONS, matching, type Comparison } from './compare-rows.ts';

export type { Comparison };

/** Batches at least this long are compared in a CPU worker, several at once; shorter ones here. */
const WORKER_MIN_ROWS = 1 << 16;
const COMPARE_MODULE = new URL(`./compare-rows${extname(import.meta.url)}`, import.meta.url);

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
    run: (input, context) => {
      const workers = context.session.workers();
      const wantRows = context.outputColumns === undefined || context.outputColumns.size > 0;
      return perBatch(input, context, async (b) => {
        const c = b.columns.get(column)!;
        const target = type === 'string' ? c.dictionary!.find(value as string) : Number(value instanceof Date ? value.getTime() : value);
        if (workers > 0 && b.rows >= WORKER_MIN_ROWS) {
          const r = await context.session.runLocal<{ count: number; keep?: Tensor<'int32'> }>(COMPARE_MODULE, 'compareRows', [c.values, op, target, c.validity ?? null, wantRows]);
          return r.keep ? keepRows(b, r.keep.data.subarray(0, r.count), context.outputColumns) : { rows: r.count, columns: new Map() };
        }
        const keep = new Int32Array(b.rows);
        const n = matching(op as Comparison, c.values.data, b.rows, target, c.validity, keep);
        return keepRows(b, keep.subarray(0, n), context.outputColumns);
      }, Math.max(1, workers));
    },
  };
}

export function kernelFilterStage(schema: Schema, predicate: UserKernel, columns: unknown): Stage {
  const names = requireColumns(schema, columns, 'columns', NUMERIC.filter((t) => t !== 'timestamp').concat('string'));
  return {
    needs: (output) => neededBefore(output, names),
    label: `filter ${predicate.name}(${names.join(', ')})`,
    schema,
    run: (input, context) => perBatch(input, context, async (b) => {
      const inputs = names.map((n) => b.columns.get(n)!);
      // Unlike withColumn's values, which rows a filter keeps must not depend on the device: every
      // device compares the same float32 inputs (a float64 just past a threshold would pass on
      // the CPU and not on a GPU).
      const mask = (await context.session.map(predicate, inputs.map((c) => asFloat32(c.values)), { output: [b.rows] })).data;
      const keep = new Int32Array(b.rows);
      let n = 0;
      for (let i = 0; i < b.rows; i++) if (mask[i] !== 0 && !Number.isNaN(mask[i]) && inputs.every((c) => !c.validity || c.validity[i])) keep[n++] = i;
      return keepRows(b, keep.subarray(0, n), context.outputColumns);
    }),
  };
}

/**
 * The rows `keep` of `b` (all of `b` itself when nothing is dropped). Only the columns in
 * `columns` (when given) are copied: the others are read by no later stage (a count reads none).
 */
export function keepRows(b: Batch, keep: Int32Array, columns?: ReadonlySet<string>): Batch {
  if (keep.length === b.rows) return b;
  const out = new Map<string, Column>();
  for (const [name, c] of b.columns) if (!columns || columns.has(name)) out.set(name, gatherColumn(c, keep));
  return { rows: keep.length, columns: out };
}

/** The values as float32 (a copy on shared memory unless they are float32 already). */
function asFloat32(t: Tensor): Tensor {
  if (t.dtype === 'float32') return t;
  const out = Tensor.zeros([t.size], 'float32');
  out.data.set(t.data as never);
  return out;
}
