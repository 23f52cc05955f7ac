/** `limit`: the first n rows; the stages before it stop (and their readers close) once n are through. */
import { ArgumentError } from '../../errors.ts';
import { sliceBatch, type Schema } from '../batch.ts';
import type { Stage } from './stage.ts';

export function limitStage(schema: Schema, n: unknown): Stage {
  if (!Number.isSafeInteger(n) || (n as number) < 0) throw new ArgumentError('n', 'a non-negative integer', n);
  const max = n as number;
  return {
    label: `limit ${max}`,
    schema,
    needs: (output) => output,
    async *run(input, { stats }) {
      if (max === 0) return;
      let left = max;
      for await (const b of input) {
        stats.rowsIn += b.rows;
        const out = b.rows <= left ? b : sliceBatch(b, 0, left);
        left -= out.rows;
        stats.rowsOut += out.rows;
        stats.batches++;
        yield out;
        if (left === 0) return;
      }
    },
  };
}
