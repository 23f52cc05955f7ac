/**
 * A lazy table: a source and the stages to apply, run only by a terminal operation (`batches`,
 * `toArrow`, `collect`, `toRows`, `count`, `write`, `toTrainData`). Building a table checks every
 * column name and type at the call that names it; running it streams record batches through the
 * stages with bounded memory (see run.ts).
 */
import type * as arrow from 'apache-arrow';
import { ArgumentError } from '../errors.ts';
import { isUserKernel, type UserKernel } from '../kernel/user.ts';
import { moduleName, type ModuleSpecifier } from '../pool/module-ref.ts';
import type { Batch, Schema } from './batch.ts';
import { concatColumns, valueAt, type Column, type ColumnType } from './column.ts';
import type { Source } from './read/source.ts';
import { checkRunOptions, runPipeline, type RunOptions } from './run.ts';
import { AGGREGATIONS, type Aggregation } from './stages/aggregates.ts';
import { requireColumns } from './stages/columns.ts';
import { compareStage, kernelFilterStage, type Comparison } from './stages/filter.ts';
import { checkGroupBy, GroupState, groupByStage, type AggSpec, type PartialGroups } from './stages/group-by.ts';
import { EMPTY_RECIPE, kernelRef, withGroupBy, withStep, type Recipe, type Step } from './recipe.ts';
import { countOnNodes, groupByOnNodes } from './nodes-scan.ts';
import { buildJoinIndex, joinStage, type JoinOptions } from './stages/join.ts';
import { limitStage } from './stages/limit.ts';
import { mapBatchesStage } from './stages/map-batches.ts';
import { renameStage, selectStage } from './stages/select.ts';
import { sortStage } from './stages/sort.ts';
import type { DataSession, Stage } from './stages/stage.ts';
import { withColumnStage } from './stages/with-column.ts';
import { buildTrainData, checkTrainDataOptions, type TrainData, type TrainDataOptions } from './train-data.ts';
import type { WriteFormat } from './write/write.ts';

/**
 * Rows from a file, a URL or an Arrow table, with stages applied lazily. Made by `td.read` or
 * `td.fromArrow`; each method returns a new table and leaves this one as it was.
 *
 * @example
 * ```ts
 * const flights = await td.read('node_modules/vega-datasets/data/flights-3m.parquet');
 * const late = await flights.filter('delay', '>', 15).groupBy('origin').agg({ delay: ['mean', 'count'] }).toArrow();
 * ```
 */
export class Table {
  /** @internal Use `td.read` or `td.fromArrow`. */
  constructor(
    private readonly session: DataSession,
    private readonly source: Source,
    private readonly stages: readonly Stage[] = [],
    /** The head of `stages` as data, for a cluster's nodes to rebuild (recipe.ts). */
    private readonly recipe: Recipe = EMPTY_RECIPE,
  ) {}

  /** Column names and types after every stage. */
  get schema(): Schema {
    return this.stages.at(-1)?.schema ?? this.source.schema;
  }

  /** Column names after every stage, in order. */
  get columns(): string[] {
    return [...this.schema.keys()];
  }

  /** Rows skipped as malformed so far (CSV and JSON lines read with `skipBadRows`). */
  get skippedRows(): number {
    return (this.source as { skipped?: () => number }).skipped?.() ?? 0;
  }

  /** The pipeline, one line per step, as `explain()` lists it. */
  describe(): string {
    return [`read ${this.source.name}`, ...this.stages.map((s) => s.label)].join('\n→ ');
  }

  /** This table with `stage` added; `step` records it for the nodes (undefined: they can't rebuild it). */
  private with(stage: Stage, step?: Step): Table {
    return new Table(this.session, this.source, [...this.stages, stage], withStep(this.recipe, step));
  }

  /**
   * Keeps `columns`, in that order.
   *
   * @example
   * ```ts
   * const routes = flights.select('origin', 'destination', 'delay');
   * ```
   */
  select(...columns: string[]): Table {
    const names = columns.length === 1 && Array.isArray(columns[0]) ? (columns[0] as string[]) : columns;
    return this.with(selectStage(this.schema, names), { op: 'select', columns: [...names] });
  }

  /**
   * Renames columns.
   *
   * @example
   * ```ts
   * const origins = airports.rename({ latitude: 'origin_lat', longitude: 'origin_lon' });
   * ```
   */
  rename(mapping: Readonly<Record<string, string>>): Table {
    return this.with(renameStage(this.schema, mapping), { op: 'rename', mapping: { ...mapping } });
  }

  /**
   * Keeps the rows where `column op value` holds (rows where the column is null are dropped), or —
   * given a user kernel and the columns it reads — the rows where the kernel returns non-zero.
   *
   * @example
   * ```ts
   * const late = flights.filter('delay', '>', 15);
   * const fromSfo = flights.filter('origin', '==', 'SFO');
   * const long = flights.filter(kernel('long', function (d: number[]) { return d[this.thread.x] > 1000 ? 1 : 0; }), ['distance']);
   * ```
   */
  filter(column: string, op: Comparison, value: number | string | boolean | Date): Table;
  filter(predicate: UserKernel, columns: readonly string[]): Table;
  filter(a: string | UserKernel, b: unknown, c?: unknown): Table {
    if (typeof a === 'string') return this.with(compareStage(this.schema, a, b, c), { op: 'filter', column: a, cmp: b as Comparison, value: c as number });
    if (isUserKernel(a)) {
      const stage = kernelFilterStage(this.schema, a, b);
      const kernel = kernelRef(a);
      return this.with(stage, kernel && { op: 'filterKernel', kernel, columns: [...(b as string[])] });
    }
    throw new ArgumentError('column', "a column name (filter('delay', '>', 15)) or a kernel (filter(k, ['delay']))", a);
  }

  /**
   * Adds (or replaces) the float32 column `name`: the user kernel run with one thread per row,
   * given `columns` as its array arguments in that order. Each batch is split over CPU workers
   * and GPUs by the planner, as `td.map` is. CPU workers read the columns as they are and
   * compute in float64; GPUs compute in float32, so a row's value may differ between devices by
   * float32 rounding.
   *
   * @example
   * ```ts
   * const km = kernel('km', function (miles: number[]) { return miles[this.thread.x] * 1.609344; });
   * const t = flights.withColumn('km', km, ['distance']);
   * ```
   */
  withColumn(name: string, k: UserKernel, columns: readonly string[]): Table {
    const stage = withColumnStage(this.schema, name, k, columns);
    const kernel = kernelRef(k);
    return this.with(stage, kernel && { op: 'withColumn', name, kernel, columns: [...columns] });
  }

  /**
   * Runs `exportName` of a task module over each batch in the CPU workers: it receives a
   * {@link PlainBatch} (columns as typed arrays on shared memory) and returns the columns it adds
   * or replaces, whose types `options.output` declares. On a cluster session the batches are jobs
   * spread over the nodes (their columns travel as blobs; nodes must allow the module), up to
   * `options.concurrency` (default 4) at once.
   *
   * @example
   * ```ts
   * // tasks.ts: export function hourOf(b) { return { hour: b.columns.date.values.map((ms) => new Date(ms).getUTCHours()) }; }
   * const t = flights.mapBatches(new URL('./tasks.ts', import.meta.url), 'hourOf', { output: { hour: 'int32' } });
   * ```
   */
  mapBatches(module: ModuleSpecifier, exportName: string, options: { output: Readonly<Record<string, ColumnType>>; concurrency?: number }): Table {
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', "{ output: { column: 'type' } }", options);
    const concurrency = options.concurrency ?? 4;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new ArgumentError('options.concurrency', 'a positive integer', concurrency);
    const stage = mapBatchesStage(this.schema, module, exportName, options.output, concurrency);
    return this.with(stage, { op: 'mapBatches', module: moduleName(module), exportName, output: { ...options.output }, concurrency });
  }

  /**
   * Groups rows by `keys`; `.agg(spec)` gives one row per group with the keys and a column
   * `<column>_<aggregation>` per aggregation (count: non-null values, int32).
   *
   * @example
   * ```ts
   * const byRoute = flights.groupBy(['origin', 'destination']).agg({ delay: ['mean', 'std', 'count'] });
   * ```
   */
  groupBy(keys: string | readonly string[]): { agg(spec: AggSpec): Table } {
    const names = requireColumns(this.schema, keys, 'keys', ['string', 'int32', 'uint8', 'bool', 'float64', 'float32', 'timestamp']);
    return {
      agg: (spec) => new Table(this.session, this.source, [...this.stages, groupByStage(this.schema, names, spec)], withGroupBy(this.recipe, names, spec)),
    };
  }

  /**
   * Joins with `right` (read whole, so it must fit in memory: a lookup table) on `options.on` =
   * `options.right`; inner by default, or left (unmatched rows keep nulls).
   *
   * @example
   * ```ts
   * const airports = await td.read('node_modules/vega-datasets/data/airports.csv');
   * const t = flights.join(airports.select('iata', 'latitude', 'longitude'), { on: 'origin', right: 'iata' });
   * ```
   */
  join(right: Table, options: JoinOptions): Table {
    if (!(right instanceof Table)) throw new ArgumentError('right', 'a Table (from td.read or td.fromArrow)', right);
    const key = (options as JoinOptions | undefined)?.right ?? (options as JoinOptions | undefined)?.on;
    return this.with(joinStage(this.schema, right.schema, options, async () => {
      const batches: Batch[] = [];
      for await (const b of right.batches()) batches.push(b);
      return buildJoinIndex(batches, right.schema, key!);
    }));
  }

  /**
   * Orders the rows by `column` (numbers numerically, strings alphabetically, nulls last; stable).
   * Reads the whole table first.
   *
   * @example
   * ```ts
   * const worst = byRoute.sort('delay_mean', { descending: true }).limit(10);
   * ```
   */
  sort(column: string, options: { descending?: boolean } = {}): Table {
    return this.with(sortStage(this.schema, column, options.descending === true));
  }

  /**
   * The first `n` rows; reading stops once they are through.
   *
   * @example
   * ```ts
   * const head = await flights.limit(5).toRows();
   * ```
   */
  limit(n: number): Table {
    return this.with(limitStage(this.schema, n));
  }

  /**
   * Runs the pipeline and yields its output batches as they come (breaking out of the loop stops
   * the run and closes the file).
   *
   * @example
   * ```ts
   * for await (const b of flights.batches({ onProgress: (p) => bar.update(p.rows) })) total += b.rows;
   * ```
   */
  batches(options?: RunOptions): AsyncGenerator<Batch> {
    const { source, stages } = this.placed();
    return runPipeline(source, stages, this.session, checkRunOptions(options));
  }

  /** Runs the pipeline reading only the source columns `output` needs. */
  private run(options: RunOptions | undefined, output: ReadonlySet<string>): AsyncGenerator<Batch> {
    const { source, stages } = this.placed();
    return runPipeline(source, stages, this.session, checkRunOptions(options), output);
  }

  /**
   * The source and stages to run here: on a cluster session with a shared source and a group-by
   * its nodes can rebuild, the nodes read the rows and aggregate them, and the source here is
   * their merged groups; otherwise this table's own.
   */
  private placed(): { source: Source; stages: readonly Stage[] } {
    const cluster = this.session.cluster();
    const { groupBy, steps } = this.recipe;
    if (!cluster || !this.source.shared || !groupBy) return { source: this.source, stages: this.stages };
    const covered = steps.length + 1;
    const spec = checkGroupBy(this.stages[covered - 2]?.schema ?? this.source.schema, groupBy.keys, groupBy.spec);
    return { source: groupByOnNodes(this.source, this.source.shared, this.recipe, spec, cluster), stages: this.stages.slice(covered) };
  }

  /**
   * A node's share of a cluster's group-by: the groups of this table's rows, as partial
   * aggregates for the client to merge.
   *
   * @internal Called by `cluster/remote-table.ts` on a node.
   */
  async partialGroups(keys: readonly string[], spec: AggSpec, options?: RunOptions): Promise<{ rows: number; partial: PartialGroups }> {
    const checked = checkGroupBy(this.schema, requireColumns(this.schema, keys, 'keys'), spec);
    const state = new GroupState(checked);
    let rows = 0;
    for await (const b of this.run(options, new Set([...keys, ...checked.wanted.map((w) => w.column)]))) {
      rows += b.rows;
      state.add(b);
    }
    return { rows, partial: state.partial() };
  }

  /**
   * Runs the pipeline and returns its rows as one batch (columns on shared memory).
   *
   * @example
   * ```ts
   * const { rows, columns } = await byOrigin.collect();
   * ```
   */
  async collect(options?: RunOptions): Promise<Batch> {
    const batches: Batch[] = [];
    for await (const b of this.batches(options)) batches.push(b);
    const columns = new Map<string, Column>();
    for (const [name, type] of this.schema) columns.set(name, concatColumns(batches.map((b) => b.columns.get(name)!), type));
    return { rows: batches.reduce((n, b) => n + b.rows, 0), columns };
  }

  /**
   * Runs the pipeline into an Apache Arrow table (numeric columns wrap Tandem's memory; strings
   * are dictionary-encoded), for DuckDB, Polars, Arquero or anything else that takes Arrow.
   *
   * @example
   * ```ts
   * const t = await byOrigin.toArrow();
   * console.log(t.numRows, t.getChild('delay_mean')?.get(0));
   * ```
   */
  async toArrow(options?: RunOptions): Promise<arrow.Table> {
    // apache-arrow (about 0.2 s to load) only when a table is converted: `@tandem/core` imports this file.
    const { toArrowTable } = await import('./arrow/to-arrow.ts');
    const batches: Batch[] = [];
    for await (const b of this.batches(options)) batches.push(b);
    return toArrowTable(this.schema, batches);
  }

  /**
   * Runs the pipeline and returns its rows as plain objects (strings, numbers, booleans, Dates,
   * null): for small results.
   *
   * @example
   * ```ts
   * console.table(await byOrigin.sort('delay_mean', { descending: true }).limit(5).toRows());
   * ```
   */
  async toRows(options?: RunOptions): Promise<Record<string, unknown>[]> {
    const rows: Record<string, unknown>[] = [];
    for await (const b of this.batches(options)) {
      const cols = [...b.columns];
      for (let r = 0; r < b.rows; r++) rows.push(Object.fromEntries(cols.map(([n, c]) => [n, valueAt(c, r)])));
    }
    return rows;
  }

  /**
   * Runs the pipeline and counts its rows.
   *
   * @example
   * ```ts
   * const late = await flights.filter('delay', '>', 15).count();
   * ```
   */
  async count(options?: RunOptions): Promise<number> {
    const cluster = this.session.cluster();
    // Every stage rebuilt on the nodes that read the rows: only their counts come back.
    if (cluster && this.source.shared && !this.recipe.groupBy && this.recipe.steps.length === this.stages.length) {
      return countOnNodes(this.source.shared, this.recipe, cluster, checkRunOptions(options).signal);
    }
    let n = 0;
    for await (const b of this.run(options, new Set())) n += b.rows;
    return n;
  }

  /**
   * Writes the rows to `path` as Parquet (ZSTD), an Arrow IPC file or CSV, by its extension or
   * `options.format`. Written to a temporary file and renamed: nothing half-written on failure.
   *
   * @example
   * ```ts
   * await byRoute.write('routes.parquet');
   * ```
   */
  async write(path: string, options: RunOptions & { format?: WriteFormat } = {}): Promise<void> {
    const { writeBatches, writeFormatOf } = await import('./write/write.ts');
    const format = writeFormatOf(path, options?.format);
    await writeBatches(path, format, this.schema, this.batches(options));
  }

  /**
   * The rows as training data for `train()` from `@tandem/ml`: features as an [n, f] float32
   * matrix (standardized by default), the label as int32 classes, split into train and test rows.
   *
   * @example
   * ```ts
   * const data = await flights.withColumn('late', isLate, ['delay']).toTrainData({ features: ['hour', 'distance'], label: 'late' });
   * const run = await train({ session: td, model, data, epochs: 3, batchSize: 1024 });
   * ```
   */
  async toTrainData(options: TrainDataOptions & RunOptions): Promise<TrainData> {
    const checked = checkTrainDataOptions(this.schema, options);
    return buildTrainData(this.run(options, new Set([...checked.features, checked.label])), checked);
  }
}

export type { Aggregation };
export { AGGREGATIONS };
