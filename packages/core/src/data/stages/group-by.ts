/**
 * `groupBy(keys).agg({ column: 'mean' | … })`: one output row per distinct key, with the key
 * columns and a float64 column `<column>_<aggregation>` per aggregation (count: int32; a histogram
 * gives int32 columns `<column>_hist_<i>`, one per bin). Streams:
 * each batch updates the groups' accumulators and is let go; the result is one batch at the end.
 */
import { ArgumentError } from '../../errors.ts';
import { Tensor } from '../../tensor/tensor.ts';
import type { Batch, Schema } from '../batch.ts';
import { makeColumn, STORAGE, type Column, type ColumnType } from '../column.ts';
import { Accumulator, AGGREGATIONS, type Aggregation } from './aggregates.ts';
import { requireColumns, NUMERIC } from './columns.ts';
import { GroupKeys } from './group-keys.ts';
import { checkHistogram, HistogramAccumulator, isHistogramSpec, type HistogramSpec } from './histogram.ts';
import type { Stage } from './stage.ts';

/** `agg`'s argument: per input column, one aggregation or several. */
export type AggSpec = Readonly<Record<string, Aggregation | HistogramSpec | readonly (Aggregation | HistogramSpec)[]>>;

export function groupByStage(schema: Schema, keys: readonly string[], spec: unknown): Stage {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec) || Object.keys(spec).length === 0) {
    throw new ArgumentError('spec', `an object { column: aggregation } with aggregations among ${AGGREGATIONS.join(', ')}`, spec);
  }
  const wanted = Object.entries(spec as Record<string, unknown>).map(([column, what]) => {
    requireColumns(schema, column, `spec.${column}`, NUMERIC);
    const list = Array.isArray(what) ? what : [what];
    if (list.length === 0) throw new ArgumentError(`spec.${column}`, 'at least one aggregation', what);
    const histograms = list.filter(isHistogramSpec).map((h) => checkHistogram(h, `spec.${column}`));
    if (histograms.length > 1) throw new ArgumentError(`spec.${column}`, 'at most one histogram per column', what);
    for (const w of list) if (!isHistogramSpec(w) && !AGGREGATIONS.includes(w as Aggregation)) throw new ArgumentError(`spec.${column}`, `one of ${AGGREGATIONS.join(', ')} or { histogram: { bins, range } }`, w);
    return { column, aggs: list.filter((w) => !isHistogramSpec(w)) as Aggregation[], histogram: histograms[0] };
  });
  const out = new Map<string, ColumnType>(keys.map((k) => [k, schema.get(k)!]));
  for (const { column, aggs, histogram } of wanted) {
    const names: (readonly [string, ColumnType])[] = aggs.map((a) => [`${column}_${a}`, a === 'count' ? 'int32' : 'float64']);
    if (histogram) names.push(...HistogramAccumulator.names(column, histogram.bins).map((n) => [n, 'int32'] as const));
    for (const [name, type] of names) {
      if (out.has(name)) throw new ArgumentError('spec', `aggregations whose output names (<column>_<aggregation>) don't clash with the keys`, name);
      out.set(name, type);
    }
  }
  return {
    label: `groupBy ${keys.join(', ')} → ${wanted.map(({ column, aggs, histogram }) => [...aggs, ...(histogram ? [`histogram${histogram.bins}`] : [])].map((a) => `${a}(${column})`).join(', ')).join(', ')}`,
    schema: out,
    needs: () => new Set([...keys, ...wanted.map((w) => w.column)]),
    async *run(input, { stats }) {
      const groups = new GroupKeys(keys, keys.map((k) => schema.get(k) === 'string'));
      const accs = wanted.map(({ aggs }) => new Accumulator(aggs.includes('std'), aggs.includes('min') || aggs.includes('max')));
      const hists = wanted.map(({ histogram: h }) => (h ? new HistogramAccumulator(h.bins, h.lo, h.hi) : undefined));
      let ids = new Int32Array(0);
      let keyColumns: Column[] | undefined;
      for await (const b of input) {
        const t0 = performance.now();
        stats.rowsIn += b.rows;
        keyColumns ??= keys.map((k) => b.columns.get(k)!);
        if (ids.length < b.rows) ids = new Int32Array(b.rows);
        groups.assign(b, ids);
        wanted.forEach(({ column }, i) => {
          const c = b.columns.get(column)!;
          accs[i]!.add(c.values.data, c.validity, ids, b.rows, groups.size);
          hists[i]?.add(c.values.data, c.validity, ids, b.rows, groups.size);
        });
        stats.busyMs += performance.now() - t0;
      }
      const n = groups.size;
      const columns = new Map<string, Column>();
      keys.forEach((k, i) => {
        const type = schema.get(k)!;
        const values = Tensor.from(groups.keyValues[i]!, [n], STORAGE[type]);
        const nulls = groups.keyNull[i]!;
        const validity = nulls.some(Boolean) ? Uint8Array.from(nulls, (isNull) => (isNull ? 0 : 1)) : undefined;
        columns.set(k, makeColumn(type, values, validity, keyColumns?.[i]?.dictionary));
      });
      wanted.forEach(({ column, aggs }, i) => {
        for (const a of aggs) {
          const t = Tensor.zeros([n], a === 'count' ? 'int32' : 'float64');
          for (let g = 0; g < n; g++) t.data[g] = accs[i]!.value(a, g);
          columns.set(`${column}_${a}`, makeColumn(a === 'count' ? 'int32' : 'float64', t));
        }
        const h = hists[i];
        if (h) HistogramAccumulator.names(column, h.bins).forEach((name, bin) => {
          const t = Tensor.zeros([n], 'int32');
          for (let g = 0; g < n; g++) t.data[g] = h.count(g, bin);
          columns.set(name, makeColumn('int32', t));
        });
      });
      stats.rowsOut += n;
      stats.batches++;
      if (n > 0) yield { rows: n, columns } satisfies Batch;
    },
  };
}
