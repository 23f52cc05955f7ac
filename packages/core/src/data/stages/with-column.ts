/**
 * `withColumn`: a user kernel over rows, one thread per row, given the named columns as its array
 * arguments in order. Each batch is one `td.map`: the planner splits it over CPU workers and GPUs
 * from learned costs, as any call. The columns go to the kernel as they are: CPU workers read
 * them in place (float64 where they are float64) and compute in float64; GPUs compute in float32
 * (gpu.js and WGSL have no float64) and convert the columns as they upload them. Either way the
 * new column is float32, and a row's value may differ between devices by float32 rounding of its
 * inputs and arithmetic (the documented tolerance of a GPU run). Converting every column to
 * float32 here first, so that every device read the same inputs, cost the main thread 3 ns a
 * value: a third of a 3M-row great-circle query on 2 cores, whose workers then waited for it.
 * Columns that need more than float32's 24 bits (timestamps in milliseconds) belong in
 * `mapBatches`. A row with a null input is null in the new column.
 */
import { isUserKernel, type UserKernel } from '../../kernel/user.ts';
import { ArgumentError } from '../../errors.ts';
import type { Schema } from '../batch.ts';
import { makeColumn, type Column } from '../column.ts';
import { requireColumns, requireNewName, NUMERIC } from './columns.ts';
import { neededBefore, perBatch, type Stage } from './stage.ts';

export function withColumnStage(schema: Schema, name: string, k: UserKernel, columns: unknown): Stage {
  requireNewName(name, 'name');
  if (!isUserKernel(k)) throw new ArgumentError('kernel', 'a kernel made with kernel(name, function (...) { ... })', k);
  const names = requireColumns(schema, columns, 'columns', NUMERIC.filter((t) => t !== 'timestamp').concat('string'));
  const out = new Map(schema);
  out.set(name, 'float32');
  return {
    label: `withColumn ${name} = ${k.name}(${names.join(', ')})`,
    schema: out,
    needs: (output) => neededBefore(output, names, [name]),
    run: (input, context) => perBatch(input, context, async (b) => {
      const inputs = names.map((n) => b.columns.get(n)!);
      const values = await context.session.map(k, inputs.map((c) => c.values), { output: [b.rows] });
      const columns = new Map<string, Column>(b.columns);
      columns.set(name, makeColumn('float32', values, combinedValidity(inputs, b.rows)));
      return { rows: b.rows, columns };
    }),
  };
}

/** Valid where every input is (absent when no input has a null). */
function combinedValidity(inputs: readonly Column[], rows: number): Uint8Array | undefined {
  const masks = inputs.map((c) => c.validity).filter((v): v is Uint8Array => v !== undefined);
  if (masks.length === 0) return undefined;
  const out = new Uint8Array(rows).fill(1);
  for (const m of masks) for (let i = 0; i < rows; i++) out[i]! &= m[i]!;
  return out;
}
