/**
 * `groupBy(keys).agg({ column: 'mean' | … })`: one output row per distinct key, with the key
 * columns and a float64 column `<column>_<aggregation>` per aggregation (count: int32; a histogram
 * gives int32 columns `<column>_hist_<i>`, one per bin). Streams:
 * each batch updates the groups' accumulators and is let go; the result is one batch at the end.
 */
import { ArgumentError } from '../../errors.ts';
import { Tensor } from '../../tensor/tensor.ts';
import type { Batch, Schema } from '../batch.ts';
import { Dictionary, makeColumn, STORAGE, type Column, type ColumnType } from '../column.ts';
import { Accumulator, AGGREGATIONS, type Aggregation } from './aggregates.ts';
import { requireColumns, NUMERIC } from './columns.ts';
import { GroupKeys } from './group-keys.ts';
import { checkHistogram, HistogramAccumulator, isHistogramSpec, type HistogramSpec } from './histogram.ts';
import type { Stage } from './stage.ts';

/** `agg`'s argument: per input column, one aggregation or several. */
export type AggSpec = Readonly<Record<string, Aggregation | HistogramSpec | readonly (Aggregation | HistogramSpec)[]>>;

/** A checked `agg` spec: per input column, its aggregations and histogram. */
export interface GroupBySpec {
  readonly keys: readonly string[];
  readonly wanted: readonly { readonly column: string; readonly aggs: readonly Aggregation[]; readonly histogram: { bins: number; lo: number; hi: number } | undefined }[];
  /** The input schema (key types) and the output schema. */
  readonly input: Schema;
  readonly output: Schema;
}

/** Checks `agg`'s spec against `schema` (errors name the argument) and names the output columns. */
export function checkGroupBy(schema: Schema, keys: readonly string[], spec: unknown): GroupBySpec {
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
  const output = new Map<string, ColumnType>(keys.map((k) => [k, schema.get(k)!]));
  for (const { column, aggs, histogram } of wanted) {
    const names: (readonly [string, ColumnType])[] = aggs.map((a) => [`${column}_${a}`, a === 'count' ? 'int32' : 'float64']);
    if (histogram) names.push(...HistogramAccumulator.names(column, histogram.bins).map((n) => [n, 'int32'] as const));
    for (const [name, type] of names) {
      if (output.has(name)) throw new ArgumentError('spec', `aggregations whose output names (<column>_<aggregation>) don't clash with the keys`, name);
      output.set(name, type);
    }
  }
  return { keys, wanted, input: schema, output };
}

export function groupByStage(schema: Schema, keys: readonly string[], spec: unknown): Stage {
  const checked = checkGroupBy(schema, keys, spec);
  return {
    label: `groupBy ${keys.join(', ')} → ${checked.wanted.map(({ column, aggs, histogram }) => [...aggs, ...(histogram ? [`histogram${histogram.bins}`] : [])].map((a) => `${a}(${column})`).join(', ')).join(', ')}`,
    schema: checked.output,
    needs: () => new Set([...keys, ...checked.wanted.map((w) => w.column)]),
    async *run(input, { stats }) {
      const state = new GroupState(checked);
      for await (const b of input) {
        const t0 = performance.now();
        stats.rowsIn += b.rows;
        state.add(b);
        stats.busyMs += performance.now() - t0;
      }
      const out = state.finish();
      stats.rowsOut += out.rows;
      stats.batches++;
      if (out.rows > 0) yield out;
    },
  };
}

/**
 * One group-by's groups and their accumulators, part of a cluster's work: each node adds the rows
 * it read and sends {@link GroupState.partial} (keys as values, not dictionary codes, which differ
 * between nodes); the client {@link GroupState.merge}s them and {@link GroupState.finish}es.
 */
export interface PartialGroups {
  /** Groups. */
  readonly groups: number;
  /** Per key column, each group's value (strings as strings; null for a null key). */
  readonly keys: readonly (readonly (string | number | null)[])[];
  /** Per aggregated column: count, sum, sum of squares, min, max of each group. */
  readonly acc: readonly { readonly count: Float64Array; readonly sum: Float64Array; readonly sumSq: Float64Array; readonly min: Float64Array; readonly max: Float64Array }[];
  /** Per aggregated column, its histogram's counts (group g's bin i at g·bins + i), or null. */
  readonly hist: readonly (Int32Array | null)[];
}

export class GroupState {
  private readonly groups: GroupKeys;
  private readonly accs: Accumulator[];
  private readonly hists: (HistogramAccumulator | undefined)[];
  private ids = new Int32Array(0);
  /** Per key column, the dictionary of its codes (a string key), from the first batch or made by merges. */
  private dictionaries: (Dictionary | undefined)[] | undefined;

  constructor(private readonly spec: GroupBySpec) {
    this.groups = new GroupKeys(spec.keys, spec.keys.map((k) => spec.input.get(k) === 'string'));
    this.accs = spec.wanted.map(({ aggs }) => new Accumulator(aggs.includes('std'), aggs.includes('min') || aggs.includes('max')));
    this.hists = spec.wanted.map(({ histogram: h }) => (h ? new HistogramAccumulator(h.bins, h.lo, h.hi) : undefined));
  }

  /** Adds a batch's rows to their groups. */
  add(b: Batch): void {
    this.dictionaries ??= this.spec.keys.map((k) => b.columns.get(k)!.dictionary);
    const ids = this.groupIds(b);
    const n = this.groups.size;
    this.spec.wanted.forEach(({ column }, i) => {
      const c = b.columns.get(column)!;
      this.accs[i]!.add(c.values.data, c.validity, ids, b.rows, n);
      this.hists[i]?.add(c.values.data, c.validity, ids, b.rows, n);
    });
  }

  private groupIds(b: Batch): Int32Array {
    if (this.ids.length < b.rows) this.ids = new Int32Array(b.rows);
    this.groups.assign(b, this.ids);
    return this.ids;
  }

  /** The groups so far, to send to the client that merges them. */
  partial(): PartialGroups {
    const n = this.groups.size;
    const keys = this.spec.keys.map((_, k) => Array.from({ length: n }, (_, g) => {
      if (this.groups.keyNull[k]![g]) return null;
      const v = this.groups.keyValues[k]![g]!;
      const dictionary = this.dictionaries?.[k];
      return dictionary ? dictionary.values[v]! : v;
    }));
    return {
      groups: n,
      keys,
      acc: this.accs.map((a) => ({ count: a.count.slice(0, n), sum: a.sum.slice(0, n), sumSq: a.sumSq.slice(0, n), min: a.min.slice(0, n), max: a.max.slice(0, n) })),
      hist: this.hists.map((h) => (h ? h.counts.slice(0, n * h.bins) : null)),
    };
  }

  /** Adds another state's groups (a node's partial) to these. */
  merge(p: PartialGroups): void {
    if (p.groups === 0) return;
    this.dictionaries ??= this.spec.keys.map((k) => (this.spec.input.get(k) === 'string' ? new Dictionary() : undefined));
    const columns = new Map<string, Column>();
    this.spec.keys.forEach((k, i) => {
      const type = this.spec.input.get(k)!;
      const values = Tensor.zeros([p.groups], STORAGE[type]);
      let validity: Uint8Array | undefined;
      p.keys[i]!.forEach((v, g) => {
        if (v === null) (validity ??= new Uint8Array(p.groups).fill(1))[g] = 0;
        else values.data[g] = typeof v === 'string' ? this.dictionaries![i]!.code(v) : v;
      });
      columns.set(k, makeColumn(type, values, validity, this.dictionaries![i]));
    });
    const ids = this.groupIds({ rows: p.groups, columns });
    const n = this.groups.size;
    this.accs.forEach((a, i) => a.merge(p.acc[i]!, ids, p.groups, n));
    this.hists.forEach((h, i) => h?.merge(p.hist[i]!, ids, p.groups, n));
  }

  /** One row per group: the keys, then each aggregation. */
  finish(): Batch {
    const n = this.groups.size;
    const columns = new Map<string, Column>();
    this.spec.keys.forEach((k, i) => {
      const type = this.spec.input.get(k)!;
      const values = Tensor.from(this.groups.keyValues[i]!, [n], STORAGE[type]);
      const nulls = this.groups.keyNull[i]!;
      const validity = nulls.some(Boolean) ? Uint8Array.from(nulls, (isNull) => (isNull ? 0 : 1)) : undefined;
      columns.set(k, makeColumn(type, values, validity, this.dictionaries?.[i]));
    });
    this.spec.wanted.forEach(({ column, aggs }, i) => {
      for (const a of aggs) {
        const t = Tensor.zeros([n], a === 'count' ? 'int32' : 'float64');
        for (let g = 0; g < n; g++) t.data[g] = this.accs[i]!.value(a, g);
        columns.set(`${column}_${a}`, makeColumn(a === 'count' ? 'int32' : 'float64', t));
      }
      const h = this.hists[i];
      if (h) HistogramAccumulator.names(column, h.bins).forEach((name, bin) => {
        const t = Tensor.zeros([n], 'int32');
        for (let g = 0; g < n; g++) t.data[g] = h.count(g, bin);
        columns.set(name, makeColumn('int32', t));
      });
    });
    return { rows: n, columns };
  }
}
