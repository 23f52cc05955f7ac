/**
 * Runs a table's pipeline: the source and every stage as concurrent steps, joined by bounded pipes
 * ({@link readAhead}), so batches stream through, stages overlap, and at most `maxQueuedBytes` of
 * batches wait between stages at any time. Records the run for `td.explain()`.
 */
import { ArgumentError } from '../errors.ts';
import type { Batch } from './batch.ts';
import type { Source } from './read/source.ts';
import type { DataSession, PipelineRun, Stage, StageStats } from './stages/stage.ts';
import { QueueMeter, readAhead } from './stream/read-ahead.ts';

/** Options of a table's terminal operations (`batches`, `toArrow`, `write`, …). */
export interface RunOptions {
  /** Called after each batch read from the source: rows read so far and, when the format says, the total. */
  readonly onProgress?: (progress: { readonly rows: number; readonly totalRows?: number }) => void;
  /** Stops the run: the terminal operation rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Bytes of batches the pipes between stages may hold together before upstream stages wait.
   * Default 256 MiB. Each pipe still takes one batch when it is empty, so the peak is at most
   * this plus one batch per stage.
   */
  readonly maxQueuedBytes?: number;
}

export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024 * 1024;

export function checkRunOptions(options: unknown): RunOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object of run options', options);
  const o = options as RunOptions;
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new ArgumentError('options.onProgress', 'a function', o.onProgress);
  if (o.maxQueuedBytes !== undefined && (!Number.isSafeInteger(o.maxQueuedBytes) || o.maxQueuedBytes < 1)) throw new ArgumentError('options.maxQueuedBytes', 'a positive integer', o.maxQueuedBytes);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new ArgumentError('options.signal', 'an AbortSignal', o.signal);
  return o;
}

/**
 * The columns read after each stage (by the stages after it and by the consumer, which reads
 * `output`), and before the first (what the source must give): walked back through the stages'
 * `needs`. 'all' (undefined in `after`) once a stage needs every column.
 */
function columnsRead(stages: readonly Stage[], output: ReadonlySet<string>): { after: Array<ReadonlySet<string> | undefined>; before: ReadonlySet<string> | 'all' } {
  const after: Array<ReadonlySet<string> | undefined> = new Array(stages.length);
  let needed: ReadonlySet<string> | 'all' = output;
  for (let i = stages.length - 1; i >= 0; i--) {
    after[i] = needed === 'all' ? undefined : needed;
    if (needed !== 'all') needed = stages[i]!.needs(needed);
  }
  return { after, before: needed };
}

/** The source columns to decode for `needed` (the columns read before the first stage); undefined when every column is. */
function sourceColumns(source: Source, needed: ReadonlySet<string> | 'all'): string[] | undefined {
  if (needed === 'all') return undefined;
  const columns = [...source.schema.keys()].filter((n) => needed.has(n));
  // At least one column, so that rows still come through to count.
  if (columns.length === 0) columns.push(source.schema.keys().next().value!);
  return columns.length === source.schema.size ? undefined : columns;
}

/** The batches out of the last stage, streamed. */
export async function* runPipeline(source: Source, stages: readonly Stage[], session: DataSession, options: RunOptions, output?: ReadonlySet<string>): AsyncGenerator<Batch> {
  const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  const meter = new QueueMeter(maxQueuedBytes);
  const signal = options.signal;
  const readStats: StageStats = { stage: `read ${source.name}`, rowsIn: 0, rowsOut: 0, batches: 0, busyMs: 0 };
  const all: StageStats[] = [readStats];
  const t0 = performance.now();
  const reads = columnsRead(stages, output ?? new Set((stages.at(-1)?.schema ?? source.schema).keys()));
  async function* read(): AsyncGenerator<Batch> {
    const columns = sourceColumns(source, reads.before);
    const it = source.batches({ ...(signal ? { signal } : {}), ...(columns ? { columns } : {}), runTask: (m, e, a) => session.runLocal(m, e, a), parallelism: session.workers() })[Symbol.asyncIterator]();
    try {
      for (;;) {
        const t = performance.now();
        const next = await it.next();
        const t1 = performance.now();
        readStats.busyMs += t1 - t;
        if (next.done) return;
        session.activity(readStats.stage, `batch ${readStats.batches}`, t, t1, { rows: next.value.rows });
        readStats.rowsIn += next.value.rows;
        readStats.rowsOut += next.value.rows;
        readStats.batches++;
        options.onProgress?.({ rows: readStats.rowsOut, ...(source.rows !== undefined ? { totalRows: source.rows } : {}) });
        yield next.value;
      }
    } finally {
      await it.return?.();
    }
  }
  let stream: AsyncIterable<Batch> = readAhead(read(), meter);
  stages.forEach((stage, i) => {
    const stats: StageStats = { stage: stage.label, rowsIn: 0, rowsOut: 0, batches: 0, busyMs: 0 };
    all.push(stats);
    const trace = (name: string, start: number, end: number, args: Record<string, unknown>) => session.activity(stage.label, name, start, end, args);
    const outputColumns = reads.after[i];
    stream = readAhead(stage.run(stream, { session, stats, trace, ...(signal ? { signal } : {}), ...(outputColumns ? { outputColumns } : {}) }), meter);
  });
  try {
    for await (const b of stream) {
      signal?.throwIfAborted();
      yield b;
    }
    signal?.throwIfAborted();
  } finally {
    const run: PipelineRun = { source: source.name, stages: all, wallMs: performance.now() - t0, peakQueuedBytes: meter.peak, maxQueuedBytes, largestBatchBytes: meter.largestBatch, pipes: stages.length + 1 };
    session.recordPipeline(run);
  }
}
