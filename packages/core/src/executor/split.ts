/**
 * Runs one data-parallel kernel call across several devices at once, in the chunks the planner's
 * {@link ChunkSizer} hands out. A device that fails gives its chunk back and stops; the others
 * finish the work. Results land in the call's one output tensor.
 */
import type { Backend } from '../backend/contract.ts';
import { ArgumentError } from '../errors.ts';
import { kernelKey, specFor } from '../kernel/key.ts';
import type { IndexRange, KernelCall, PartialResult } from '../kernel/types.ts';
import type { CostModel } from '../planner/cost-model.ts';
import { ChunkSizer, type SplitSizing } from '../planner/split-sizing.ts';
import type { Recorder } from '../trace/recorder.ts';
import { ownMs, type RunStart } from '../backend/run-start.ts';
import { observedRun } from './observed-run.ts';

/** What one piece of a split did. */
export interface ChunkRecord {
  readonly device: string;
  readonly range: IndexRange;
  readonly predictedMs: number | undefined;
  readonly measuredMs: number;
  readonly ok: boolean;
}

/**
 * Runs `call` split over `backends`. Resolves once the output holds the whole result; rejects
 * only when every device failed (with the last error).
 */
export async function runSplit(call: KernelCall, backends: readonly Backend[], model: CostModel, sizing: SplitSizing, recorder?: Recorder): Promise<ChunkRecord[]> {
  if (backends.length === 0) throw new ArgumentError('policy', `a policy with at least one healthy device that runs kernel '${call.kernel}'`, sizing.policy);
  const spec = specFor(call);
  const key = kernelKey(call);
  const sizer = new ChunkSizer(key, spec.extent(call), spec.align?.(call) ?? 1, backends, model, sizing);
  const records: ChunkRecord[] = [];
  const done: Array<{ range: IndexRange; partial: PartialResult | undefined }> = [];

  let lastError: unknown;
  const worker = async (b: Backend): Promise<void> => {
    for (;;) {
      const range = sizer.take(b);
      if (!range) return;
      const n = range.end - range.start;
      const predicted = model.predictKernel(key, b.device.id, n);
      // A backend whose run resolves without a turn of the event loop must not keep every chunk
      // to itself while the others' completions wait to be delivered.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const before = b.transfers();
      const t0 = performance.now();
      const span = recorder?.begin(b.device.id, key, `${key}[${range.start}:${range.end})`);
      const began: RunStart = {};
      try {
        const partial = await observedRun(b, call, range, recorder, key, began);
        const ms = ownMs(t0, performance.now(), began);
        const after = b.transfers();
        span?.end({
          predictedMs: predicted,
          elements: n,
          bytesMoved: after.uploadBytes - before.uploadBytes + after.downloadBytes - before.downloadBytes,
        });
        done.push({ range, partial });
        records.push({ device: b.device.id, range, predictedMs: predicted, measuredMs: ms, ok: true });
        model.recordKernel(key, b.device.id, n, ms);
        sizer.measured(b, n, ms);
      } catch (error) {
        span?.end({ predictedMs: predicted, elements: n, error: (error as Error).message });
        records.push({ device: b.device.id, range, predictedMs: predicted, measuredMs: performance.now() - t0, ok: false });
        lastError = error;
        // Its chunk goes back to the others; partial writes into the output are overwritten whole.
        sizer.giveBack(b, range);
        wakeIdle();
        return;
      }
    }
  };

  // A device whose loop ended (no work left) restarts when another fails and gives a chunk back.
  let wake: (() => void) | undefined;
  const wakeIdle = () => wake?.();
  const active = new Set<Backend>();
  const running = new Set<Promise<void>>();
  const start = (b: Backend) => {
    active.add(b);
    const p = worker(b).finally(() => {
      active.delete(b);
      running.delete(p);
      wakeIdle();
    });
    running.add(p);
  };
  for (const b of backends) start(b);
  for (;;) {
    for (const b of sizer.live()) if (!active.has(b) && sizer.pending) start(b);
    if (running.size === 0) break;
    await new Promise<void>((resolve) => (wake = resolve));
  }
  if (sizer.pending) throw lastError ?? new Error(`split of kernel '${call.kernel}' could not finish`);
  done.sort((a, b) => a.range.start - b.range.start);
  spec.merge?.(call, done.map((d) => d.range), done.map((d) => d.partial));
  return records;
}
