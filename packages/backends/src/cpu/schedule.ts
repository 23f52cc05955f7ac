/**
 * How one kernel call over one range becomes worker tasks: split into aligned chunks (one per
 * worker when the work is worth it), run them all, then combine — reduce partials into one,
 * scan carries by a first summing pass, sorted chunks by merge-path merges shared across workers.
 */
import { extname } from 'node:path';
import {
  REDUCTIONS, Tensor, splitRange, type IndexRange, type KernelCall, type KernelSpec, type PartialResult, type ReduceKernel,
  type RunObserver, type TaskOptions, type WorkerPool,
} from '@tandem/core/backend';
import type { ChunkTask, ChunkResult, MatmulEngine } from './protocol.ts';

// Built, this module is .js and so is its sibling; from source both are .ts.
const TASK_MODULE = new URL(`./worker-kernels${extname(import.meta.url)}`, import.meta.url);

/**
 * Below this much work per chunk a task's messaging costs more than splitting saves. User kernels
 * count one flop per element but cost a JS call each, so they split sooner.
 */
const MIN_CHUNK_FLOPS = 1 << 17;
const MIN_CHUNK_USER_ELEMENTS = 1 << 13;

export interface Scheduler {
  readonly pool: WorkerPool;
  /** Process workers get copies of tensors: chunks return their slices instead of writing shared memory. */
  readonly copyMode: boolean;
  readonly matmul: MatmulEngine;
  /** The run's observer, if any: told which worker computed each chunk, and when. */
  readonly observe?: RunObserver | undefined;
}

/** Task options for one chunk task: a retry after a crash, and, when observed, a report of where it ran. */
function chunkOptions(s: Scheduler, task: ChunkTask): TaskOptions {
  const observe = s.observe;
  if (!observe) return { retries: 1 };
  // Merge tasks work on merge-path diagonals, not on an index range of the call.
  const range = task.op === 'merge' ? undefined : { start: task.start, end: task.end };
  return {
    retries: 1,
    onRun: ({ worker, start, end }) => observe({ kind: 'compute', lane: `worker ${worker}`, start, end, ...(range ? { range } : {}) }),
  };
}

/** Runs the tasks in parallel; waits for all (none still writes when this settles) and rethrows the first failure. */
async function runAll(s: Scheduler, tasks: readonly ChunkTask[]): Promise<ChunkResult[]> {
  // A chunk only reads its inputs and overwrites its own output slice, so a retry after a crash is safe.
  const settled = await Promise.allSettled(tasks.map((task) => s.pool.run<ChunkResult>(TASK_MODULE, 'runChunk', [task], chunkOptions(s, task))));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<ChunkResult>).value);
}

/** Copy mode: puts each returned slice where the task would have written it. */
function place(results: readonly ChunkResult[], into: Tensor, offsets: readonly number[]): void {
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (r instanceof Float32Array) (into.data as Float32Array).set(r, offsets[i]!);
  }
}

/** Aligned chunks of `range`: up to one per worker, fewer when the work is small. */
export function chunks(s: Scheduler, spec: KernelSpec, call: KernelCall, range: IndexRange): IndexRange[] {
  const len = range.end - range.start;
  if (len === 0) return [];
  const work = spec.cost(call, range).flops / (call.kernel === 'user' ? MIN_CHUNK_USER_ELEMENTS : MIN_CHUNK_FLOPS);
  const parts = Math.max(1, Math.min(s.pool.size, Math.floor(work)));
  return splitRange(len, parts, spec.align?.(call) ?? 1).map((c) => ({ start: range.start + c.start, end: range.start + c.end }));
}

export async function runMap(s: Scheduler, spec: KernelSpec, call: KernelCall, range: IndexRange): Promise<void> {
  const parts = chunks(s, spec, call, range);
  const out = s.copyMode ? null : call.output;
  const tasks = parts.map((c): ChunkTask => ({
    op: 'map', kernel: call.kernel, args: call.args, params: call.params ?? {}, outShape: call.output.shape, out, start: c.start, end: c.end,
    ...(call.user ? { user: call.user } : {}),
    ...(call.kernel === 'matmul' ? { matmul: s.matmul } : {}),
  }));
  place(await runAll(s, tasks), call.output, parts.map((c) => c.start));
}

export async function runReduce(s: Scheduler, spec: KernelSpec, call: KernelCall, range: IndexRange): Promise<PartialResult> {
  const x = call.args[0] as Tensor;
  const parts = chunks(s, spec, call, range);
  const partials = (await runAll(s, parts.map((c): ChunkTask => ({ op: 'reduce', kernel: call.kernel, x, params: call.params ?? {}, start: c.start, end: c.end })))) as PartialResult[];
  if (call.kernel === 'histogram') {
    const counts = new Array<number>(call.params.bins!).fill(0);
    for (const p of partials) for (let i = 0; i < counts.length; i++) counts[i]! += p[i]!;
    return counts;
  }
  const { identity, combine } = REDUCTIONS[call.kernel as ReduceKernel];
  let acc = identity;
  for (const p of partials) acc = combine(acc, p[0]!);
  return [acc];
}

/**
 * The range's local inclusive scan: chunk sums first (all but the last chunk), then every chunk
 * scans from its exact float64 offset — no second pass over the output to add carries.
 */
export async function runScan(s: Scheduler, spec: KernelSpec, call: KernelCall, range: IndexRange): Promise<void> {
  const x = call.args[0] as Tensor;
  const parts = chunks(s, spec, call, range);
  const offsets = [0];
  if (parts.length > 1) {
    const sums = (await runAll(s, parts.slice(0, -1).map((c): ChunkTask => ({ op: 'reduce', kernel: 'sum', x, params: {}, start: c.start, end: c.end })))) as PartialResult[];
    for (const p of sums) offsets.push(offsets[offsets.length - 1]! + p[0]!);
  }
  const out = s.copyMode ? null : call.output;
  const results = await runAll(s, parts.map((c, i): ChunkTask => ({ op: 'scan', x, out, start: c.start, end: c.end, offset: offsets[i]! })));
  place(results, call.output, parts.map((c) => c.start));
}

/**
 * Sorts each chunk in a worker, then merges runs pairwise, round by round, each merge split along
 * merge-path diagonals into about `pool.size` equal parts. Runs ping-pong between the output and
 * a scratch tensor; chunks are sorted into whichever makes the last round land in the output.
 */
export async function runSort(s: Scheduler, spec: KernelSpec, call: KernelCall, range: IndexRange): Promise<void> {
  const x = call.args[0] as Tensor;
  const output = call.output;
  const parts = chunks(s, spec, call, range);
  if (parts.length === 0) return;
  const base = range.start;
  const len = range.end - base;
  let rounds = 0;
  for (let n = parts.length; n > 1; n = Math.ceil(n / 2)) rounds++;
  // Buffers, addressed range-relative: position p is output[base + p] and scratch[p].
  const bufs: { t: Tensor; at: number }[] = [{ t: output, at: base }];
  if (rounds > 0) bufs.push({ t: Tensor.zeros([len]), at: 0 });
  let cur = rounds % 2 === 0 ? 0 : 1;
  const into = bufs[cur]!;
  const starts = parts.map((c) => into.at + c.start - base);
  const sorted = await runAll(s, parts.map((c, i): ChunkTask => ({
    op: 'sort', x, start: c.start, end: c.end, out: s.copyMode ? null : into.t, outStart: starts[i]!,
  })));
  place(sorted, into.t, starts);
  let runs = parts.map((c) => ({ start: c.start - base, end: c.end - base }));
  while (runs.length > 1) {
    const src = bufs[cur]!;
    const dst = bufs[1 - cur]!;
    const tasks: ChunkTask[] = [];
    const offsets: number[] = [];
    const next: IndexRange[] = [];
    for (let i = 0; i < runs.length; i += 2) {
      const a = runs[i]!;
      const b = runs[i + 1] ?? { start: a.end, end: a.end };
      const n = b.end - a.start;
      next.push({ start: a.start, end: b.end });
      const split = Math.max(1, Math.round((s.pool.size * n) / len));
      for (const d of splitRange(n, split)) {
        if (d.end === d.start) continue;
        tasks.push({
          op: 'merge', src: src.t, srcAt: src.at, dst: s.copyMode ? null : dst.t, dstAt: dst.at,
          aStart: a.start, aEnd: a.end, bEnd: b.end, d0: d.start, d1: d.end,
        });
        offsets.push(dst.at + a.start + d.start);
      }
    }
    place(await runAll(s, tasks), dst.t, offsets);
    runs = next;
    cur = 1 - cur;
  }
}
