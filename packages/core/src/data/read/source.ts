/**
 * What a reader gives a table: the schema up front (so a stage naming a missing column fails where
 * it is written) and its batches on demand.
 */
import type { Batch, Schema } from '../batch.ts';

/** Where rows come from: a file, a URL or an Arrow table in memory. */
export interface Source {
  /** The path or URL, for messages. */
  readonly name: string;
  readonly schema: Schema;
  /** Row count when the format says it up front (Parquet, Arrow files, tables in memory). */
  readonly rows?: number;
  /** The rows, as batches; `columns` limits what is decoded where the format allows. */
  batches(options: SourceOptions): AsyncIterable<Batch>;
  /**
   * Set when a cluster's nodes can read this source themselves (`ReadOptions.shared`): where, and
   * in how many parts (Parquet row groups) its rows can be read apart.
   */
  readonly shared?: { readonly location: string; readonly parts: number };
}

export interface SourceOptions {
  readonly columns?: readonly string[];
  readonly signal?: AbortSignal;
  /** Runs a task on the session's workers, for readers that decode there. */
  readonly runTask: <T>(module: URL, exportName: string, args: readonly unknown[]) => Promise<T>;
  /** How many tasks a reader may have running at once (the session's live workers). */
  readonly parallelism: number;
}

/** Options of `td.read`. */
export interface ReadOptions {
  /** The file's format; by default from its extension (.parquet, .arrow/.feather/.ipc, .arrows, .csv, .jsonl/.ndjson). */
  readonly format?: 'parquet' | 'arrow' | 'csv' | 'jsonl';
  /** Rows per batch for formats that don't fix it (CSV, JSON lines). Default 65,536. */
  readonly batchRows?: number;
  /** CSV/JSON lines: skip rows that don't parse (counted in the table's `skippedRows`) instead of failing. Default false. */
  readonly skipBadRows?: boolean;
  /** CSV: the field delimiter. Default ','. */
  readonly delimiter?: string;
  /** CSV/JSON lines: rows read to decide each column's type. Default 1,000. */
  readonly inferRows?: number;
  /** Parquet: read only these row groups (0-based, in this order). Default every one. */
  readonly rowGroups?: readonly number[];
  /**
   * Parquet, on a cluster session: every node can read this location too — an http(s) URL, or a
   * path on storage they all mount, under their `--allow` directories. Then a `groupBy().agg()`
   * or a `count()` of the table runs where the data is: each node reads some row groups, runs
   * the stages before the aggregation (select, rename, filter, withColumn and mapBatches with
   * kernels and modules the nodes can load) and sends back only its partial aggregates, which
   * this session merges. Default false: the file is read here.
   */
  readonly shared?: boolean;
}

export const DEFAULT_BATCH_ROWS = 65_536;
