/**
 * `sort`: reads the whole table (it must fit in memory), orders rows by one column — numbers
 * numerically, strings by their text, nulls last — and yields it again in batches. Stable.
 */
import type { Batch, Schema } from '../batch.ts';
import { concatColumns, gatherColumn, type Column } from '../column.ts';
import { DEFAULT_BATCH_ROWS } from '../read/source.ts';
import { requireColumns } from './columns.ts';
import { neededBefore, type Stage } from './stage.ts';

export function sortStage(schema: Schema, column: string, descending: boolean): Stage {
  requireColumns(schema, column, 'column');
  return {
    label: `sort ${column}${descending ? ' descending' : ''}`,
    schema,
    needs: (output) => neededBefore(output, [column]),
    async *run(input, { stats }) {
      const batches: Batch[] = [];
      for await (const b of input) {
        stats.rowsIn += b.rows;
        batches.push(b);
      }
      const t0 = performance.now();
      // Only the columns the batches carry: the reader may have left out ones no later stage uses.
      const present = [...schema].filter(([n]) => batches.length === 0 || batches[0]!.columns.has(n));
      const all = new Map<string, Column>(present.map(([n, t]) => [n, concatColumns(batches.map((b) => b.columns.get(n)!), t)]));
      batches.length = 0;
      const c = all.get(column);
      if (!c) return;
      const rows = c.values.size;
      let sortKey: ArrayLike<number> = c.values.data;
      if (c.type === 'string') {
        // Rank each code by its string once; rows then compare ranks.
        const strings = c.dictionary!.values;
        const order = strings.map((_, i) => i).sort((a, b) => (strings[a]! < strings[b]! ? -1 : strings[a]! > strings[b]! ? 1 : 0));
        const rank = new Int32Array(strings.length);
        order.forEach((code, r) => (rank[code] = r));
        sortKey = Int32Array.from(c.values.data as Int32Array, (code) => rank[code]!);
      }
      const sign = descending ? -1 : 1;
      const isNull = (r: number) => (c.validity !== undefined && c.validity[r] === 0) || Number.isNaN(sortKey[r]);
      const idx = Int32Array.from({ length: rows }, (_, i) => i).sort((a, b) => {
        const na = isNull(a), nb = isNull(b);
        if (na || nb) return na === nb ? a - b : na ? 1 : -1;
        const d = sortKey[a]! - sortKey[b]!;
        return d !== 0 ? sign * d : a - b;
      });
      stats.busyMs += performance.now() - t0;
      for (let start = 0; start < rows; start += DEFAULT_BATCH_ROWS) {
        const part = idx.subarray(start, Math.min(rows, start + DEFAULT_BATCH_ROWS));
        const columns = new Map<string, Column>([...all].map(([n, col]) => [n, gatherColumn(col, part)]));
        stats.rowsOut += part.length;
        stats.batches++;
        yield { rows: part.length, columns };
      }
    },
  };
}
