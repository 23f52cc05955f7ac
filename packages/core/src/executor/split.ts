/**
 * One data-parallel kernel call across several devices at once (Qilin's split, corrected by
 * guided self-scheduling): each device's share of the index space is proportional to its
 * predicted throughput, handed out in shrinking chunks so that every device finishes at about the
 * same time even when the prediction is wrong. A device that fails gives its chunk back and
 * stops; the others finish the work. Results land in the call's one output tensor.
 */
import type { Backend } from '../backend.ts';
import { ArgumentError } from '../errors.ts';
import type { IndexRange, KernelCall, Partial } from '../kernel/types.ts';
import type { CostModel } from '../planner/cost-model.ts';
import { kernelKey, specFor } from './kernel-runner.ts';
import { observedRun } from './observed-run.ts';
import type { Recorder } from './recorder.ts';

/** How a session places work: see {@link SplitOptions.policy}. */
export type Policy = 'auto' | 'cpu' | 'gpu' | 'eager';

export const POLICIES: readonly Policy[] = ['auto', 'cpu', 'gpu', 'eager'];

export interface SplitOptions {
  /**
   * `auto`: every healthy device, shares by predicted throughput; `cpu` / `gpu`: only devices of
   * that kind; `eager`: every device, no model — the first free device takes the next equal chunk.
   */
  readonly policy: Policy;
  /**
   * A static split: each device id's share of the index space, run as one contiguous chunk per
   * device with no self-scheduling (an oracle's, or a user's, choice). Shares are normalised.
   */
  readonly shares?: Readonly<Record<string, number>>;
}

/** What one piece of a split did. */
export interface ChunkRecord {
  readonly device: string;
  readonly range: IndexRange;
  readonly predictedMs: number | undefined;
  readonly measuredMs: number;
  readonly ok: boolean;
}

/**
 * Devices that can run the call under the policy: healthy, and the first capable backend of each
 * kind in session order. Several backends can drive the same hardware (cpu and tfjs:wasm share
 * the cores; webgpu and gpujs one adapter): splitting a job between them would only make them
 * compete for it.
 */
export function eligibleBackends(backends: readonly Backend[], kernel: string, policy: Policy): Backend[] {
  const out: Backend[] = [];
  for (const b of backends) {
    if (b.health() !== 'ok' || !b.supports(kernel)) continue;
    if ((policy === 'cpu' && b.device.kind !== 'cpu') || (policy === 'gpu' && b.device.kind !== 'gpu')) continue;
    if (!out.some((o) => o.device.kind === b.device.kind)) out.push(b);
  }
  return out;
}

/**
 * Whether splitting a call of `extent` elements over `able` can pay. Not when a GPU emulated in
 * software is among them beside the CPU (one set of cores: a split only adds contention), nor
 * when the slower device is over 4× slower than the faster (it would add at most a fifth of the
 * throughput, less than the split costs). Unknown or uncertain speeds ({@link CostModel.confidence}):
 * yes, the split measures them.
 */
export function worthSplitting(key: string, extent: number, able: readonly Backend[], model: CostModel, policy: Policy): boolean {
  if (able.length < 2) return false;
  if (policy === 'eager') return true;
  if (able.some((b) => b.device.software) && able.some((b) => b.device.kind === 'cpu')) return false;
  const times = able.map((b) => model.predictKernel(key, b.device.id, extent));
  if (times.some((t) => t === undefined)) return true;
  // A prediction from too few, old or contradicted samples must not keep a device out: the split measures it.
  if (able.some((b) => model.confidence(key, b.device.id, extent).uncertain)) return true;
  const [fast, slow] = (times as number[]).sort((a, b) => a - b) as [number, number];
  return slow <= 4 * fast;
}

/**
 * Runs `call` split over `backends`. Resolves once the output holds the whole result; rejects
 * only when every device failed (with the last error).
 */
export async function runSplit(call: KernelCall, backends: readonly Backend[], model: CostModel, options: SplitOptions, recorder?: Recorder): Promise<ChunkRecord[]> {
  if (backends.length === 0) throw new ArgumentError('policy', `a policy with at least one healthy device that runs kernel '${call.kernel}'`, options.policy);
  const spec = specFor(call);
  const key = kernelKey(call);
  const extent = spec.extent(call);
  const align = spec.align?.(call) ?? 1;
  const units = Math.ceil(extent / align);
  const records: ChunkRecord[] = [];
  const done: Array<{ range: IndexRange; partial: Partial | undefined }> = [];
  const returned: IndexRange[] = [];
  let next = 0;
  let remaining = units;
  const alive = new Set(backends);
  const rate = new Map<Backend, number>();

  // Throughput (units per ms) of each device: the model's prediction for its whole share, else unknown.
  for (const b of backends) {
    if (options.shares) break;
    if (options.policy !== 'eager') {
      const t = model.predictKernel(key, b.device.id, extent);
      if (t !== undefined && t > 0) rate.set(b, units / t);
    }
  }
  let staticQueues: Map<Backend, IndexRange[]> | undefined;
  // No chunk smaller than this: per-chunk costs (a message, a dispatch) would outweigh its work.
  const minUnits = Math.max(1, Math.ceil(units / (32 * backends.length)));
  const totalRate = () => [...alive].reduce((s, b) => s + (rate.get(b) ?? 0), 0);

  /** Next range for `b`, in units: a shrinking fraction of what is left, weighted by its rate. */
  const take = (b: Backend): IndexRange | undefined => {
    const back = returned.shift();
    if (back) return back;
    if (staticQueues) return staticQueues.get(b)?.shift();
    if (remaining <= 0) return undefined;
    let size: number;
    if (options.policy === 'eager') {
      size = Math.max(minUnits, Math.ceil(units / (8 * alive.size)));
    } else if (!rate.has(b)) {
      // No model yet: a probe chunk, small but real work, measures the device.
      size = Math.max(minUnits, Math.ceil(units / (16 * alive.size)));
    } else {
      const share = rate.get(b)! / Math.max(totalRate(), 1e-12);
      // Guided self-scheduling: half of this device's share of what remains, at least 1/64 of its first share.
      size = Math.max(minUnits, Math.ceil((remaining * share) / 2));
    }
    size = Math.min(size, remaining);
    const start = next;
    next += size;
    remaining -= size;
    return { start: start * align, end: Math.min(extent, (start + size) * align) };
  };

  if (options.shares) {
    // Static: one contiguous chunk per device, in device order, sized by its share.
    const weights = backends.map((b) => Math.max(0, options.shares![b.device.id] ?? 0));
    const sum = weights.reduce((a, b) => a + b, 0);
    if (!(sum > 0)) throw new ArgumentError('shares', `positive shares for some of ${backends.map((b) => b.device.id).join(', ')}`, options.shares);
    let at = 0;
    const queues = new Map<Backend, IndexRange[]>();
    backends.forEach((b, i) => {
      const size = i === backends.length - 1 ? units - at : Math.round((units * weights[i]!) / sum);
      if (size > 0) queues.set(b, [{ start: at * align, end: Math.min(extent, (at + size) * align) }]);
      at += size;
    });
    next = units;
    remaining = 0;
    staticQueues = queues;
  }

  let lastError: unknown;
  const worker = async (b: Backend): Promise<void> => {
    for (;;) {
      if (!alive.has(b)) return;
      const range = take(b);
      if (!range) return;
      const n = range.end - range.start;
      const predicted = model.predictKernel(key, b.device.id, n);
      // A backend whose run resolves without a turn of the event loop must not keep every chunk
      // to itself while the others' completions wait to be delivered.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const before = b.transfers();
      const t0 = performance.now();
      const span = recorder?.begin(b.device.id, `${key}[${range.start}:${range.end})`);
      try {
        const partial = await observedRun(b, call, range, recorder, key);
        const ms = performance.now() - t0;
        const after = b.transfers();
        span?.end({
          predictedMs: predicted,
          elements: n,
          bytesMoved: after.uploadBytes - before.uploadBytes + after.downloadBytes - before.downloadBytes,
        });
        done.push({ range, partial });
        records.push({ device: b.device.id, range, predictedMs: predicted, measuredMs: ms, ok: true });
        model.recordKernel(key, b.device.id, n, ms);
        if (ms > 0) {
          const measured = n / align / ms;
          const old = rate.get(b);
          rate.set(b, old === undefined ? measured : 0.5 * old + 0.5 * measured);
        }
      } catch (error) {
        span?.end({ predictedMs: predicted, elements: n, error: (error as Error).message });
        records.push({ device: b.device.id, range, predictedMs: predicted, measuredMs: performance.now() - t0, ok: false });
        lastError = error;
        alive.delete(b);
        // Its chunk goes back to the others; partial writes into the output are overwritten whole.
        returned.push(range);
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
    for (const b of alive) if (!active.has(b) && (returned.length > 0 || remaining > 0)) start(b);
    if (running.size === 0) break;
    await new Promise<void>((resolve) => (wake = resolve));
  }
  if (returned.length > 0 || remaining > 0) {
    throw lastError ?? new Error(`split of kernel '${call.kernel}' could not finish`);
  }
  done.sort((a, b) => a.range.start - b.range.start);
  spec.merge?.(call, done.map((d) => d.range), done.map((d) => d.partial));
  return records;
}
