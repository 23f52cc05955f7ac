/**
 * A stage of a table's pipeline: it knows its output schema when the table is built (so a
 * missing column fails at the call that names it) and transforms batches when the table runs.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import type { UserKernel, UserKernelArg } from '../../kernel/user.ts';
import type { ModuleSpecifier } from '../../pool/module-ref.ts';
import type { Batch, Schema } from '../batch.ts';

/** What stages ask of the session: kernels placed by its planner, tasks on its workers. */
export interface DataSession {
  map(kernel: UserKernel, args: readonly UserKernelArg[], options: { output: [number] }): Promise<Tensor>;
  /** A user's task (`mapBatches`): on the session's workers, or spread over its cluster's nodes. */
  run<T>(module: ModuleSpecifier, exportName: string, args: readonly unknown[]): Promise<T>;
  /** Tandem's own task on this machine's workers, cluster or not: readers decode where the file is. */
  runLocal<T>(module: ModuleSpecifier, exportName: string, args: readonly unknown[]): Promise<T>;
  /** How many CPU workers this machine's session has (readers decode on them in parallel). */
  workers(): number;
  /** Records what a stage did with one batch, for the trace (`performance.now()` ms). */
  activity(stage: string, name: string, start: number, end: number, args: Record<string, unknown>): void;
  /** Records a finished pipeline run for `td.explain()`. */
  recordPipeline(run: PipelineRun): void;
  /** The session's cluster, when it has one with live nodes: where shared sources are scanned. */
  cluster(): ClusterScan | undefined;
}

/** What a table's scan on the nodes needs of a cluster session. */
export interface ClusterScan {
  /** Live nodes (this machine's own among them when it has workers). */
  readonly nodes: number;
  /** Runs `exportName` of the node-side table module (`cluster/remote-table.ts`) on some node. */
  run<T>(exportName: string, args: readonly unknown[], signal?: AbortSignal): Promise<T>;
}

/** What one run of a stage did, for explain() and progress. */
export interface StageStats {
  readonly stage: string;
  rowsIn: number;
  rowsOut: number;
  batches: number;
  /** Milliseconds this stage spent working on batches (not waiting for input). */
  busyMs: number;
}

/** One run of a table's pipeline. */
export interface PipelineRun {
  readonly source: string;
  readonly stages: readonly StageStats[];
  readonly wallMs: number;
  /** Most bytes of batches held between stages at once. */
  readonly peakQueuedBytes: number;
  readonly maxQueuedBytes: number;
  /** The largest batch that went through a pipe; the peak is at most maxQueuedBytes + pipes × this. */
  readonly largestBatchBytes: number;
  /** Pipes between the source and the stages (one after each). */
  readonly pipes: number;
}

export interface StageContext {
  readonly session: DataSession;
  readonly signal?: AbortSignal;
  readonly stats: StageStats;
  /** Puts one batch's work on the stage's track of the trace. */
  readonly trace: (name: string, start: number, end: number, args: Record<string, unknown>) => void;
  /**
   * The columns of this stage's output that later stages and the consumer read, when known: a
   * stage that copies rows (a filter) copies only these. Undefined: all of them.
   */
  readonly outputColumns?: ReadonlySet<string>;
}

export interface Stage {
  /** One line for explain(): `withColumn km = greatCircle(lat1, lon1, lat2, lon2)`. */
  readonly label: string;
  /** The schema after this stage. */
  readonly schema: Schema;
  /**
   * The input columns this stage needs to produce `output` (a subset of its schema's columns),
   * or 'all'. Lets the reader decode only the columns a pipeline uses.
   */
  needs(output: ReadonlySet<string>): ReadonlySet<string> | 'all';
  run(input: AsyncIterable<Batch>, context: StageContext): AsyncIterable<Batch>;
}

/** Columns needed before a stage that reads `reads` and makes `makes` out of them. */
export function neededBefore(output: ReadonlySet<string>, reads: readonly string[], makes: readonly string[] = []): Set<string> {
  const out = new Set([...output].filter((c) => !makes.includes(c)));
  for (const r of reads) out.add(r);
  return out;
}

/**
 * Runs `each` on every batch, up to `concurrency` batches at once (results stay in input order),
 * counting rows and busy time in the context's stats and putting each batch on the trace. A failure stops the stage; batches still in flight are
 * awaited (and their results dropped) before the error is thrown, so none is left running.
 */
export async function* perBatch(
  input: AsyncIterable<Batch>, { stats, trace }: StageContext, each: (b: Batch) => Promise<Batch | undefined> | Batch | undefined, concurrency = 1,
): AsyncGenerator<Batch> {
  const inFlight: Promise<Batch | undefined>[] = [];
  let busySince: number | undefined;
  let index = 0;
  const start = (b: Batch) => {
    stats.rowsIn += b.rows;
    const t0 = performance.now();
    busySince ??= t0;
    const k = index++;
    const p = Promise.resolve().then(() => each(b)).then((out) => {
      trace(`batch ${k}`, t0, performance.now(), { rowsIn: b.rows, rowsOut: out?.rows ?? 0 });
      return out;
    });
    p.catch(() => {}); // observed when its turn comes
    inFlight.push(p);
  };
  const finishOne = async (): Promise<Batch | undefined> => {
    const out = await inFlight.shift()!;
    if (inFlight.length === 0 && busySince !== undefined) {
      stats.busyMs += performance.now() - busySince;
      busySince = undefined;
    }
    if (!out || out.rows === 0) return undefined;
    stats.rowsOut += out.rows;
    stats.batches++;
    return out;
  };
  try {
    for await (const b of input) {
      start(b);
      if (inFlight.length < concurrency) continue;
      const out = await finishOne();
      if (out) yield out;
    }
    while (inFlight.length > 0) {
      const out = await finishOne();
      if (out) yield out;
    }
  } finally {
    await Promise.allSettled(inFlight.splice(0));
  }
}
