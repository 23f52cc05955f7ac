/**
 * How one data-parallel call is cut across devices (Qilin's split, corrected by guided
 * self-scheduling): each device's share of the index space is proportional to its predicted
 * throughput, handed out in shrinking chunks so that every device finishes at about the same time
 * even when the prediction is wrong. The executor (`executor/split.ts`) runs the chunks.
 */
import type { Backend } from '../backend/contract.ts';
import { ArgumentError } from '../errors.ts';
import type { IndexRange } from '../kernel/types.ts';
import type { CostModel } from './cost-model.ts';
import type { Policy } from './policy.ts';

/** A split must be predicted this much faster than the best device alone, or the op runs whole. */
export const SPLIT_GAIN = 1.1;
/**
 * Splitting only to measure an uncertain device may cost at most this much more than the best
 * device alone. Beyond it the op runs whole, and the planner's exploration slices
 * (`GraphPlanner.explorationFor`) measure the device instead, a bounded number per graph.
 */
export const MEASURE_SPLIT_COST = 1.5;

/**
 * The devices a split of a call spreads over, of those able to run it: a GPU emulated in software
 * is left out when the CPU is in (one set of cores: a split between them only adds contention).
 * `eager` splits over all of them, as it is told.
 */
export function splitDevices(able: readonly Backend[], policy: Policy): Backend[] {
  if (policy === 'eager' || !able.some((b) => b.device.kind === 'cpu')) return [...able];
  return able.filter((b) => !(b.device.kind === 'gpu' && b.device.software));
}

/**
 * Whether splitting a call of `extent` elements over {@link splitDevices} of `able` can pay. A
 * device never measured on it: yes, the split measures it. Otherwise by the split's predicted
 * time ({@link predictSplitMs}: every chunk's fixed cost counted) against the fastest device
 * alone: a split must beat it by {@link SPLIT_GAIN}, or, where a device's speed is uncertain
 * ({@link CostModel.confidence}), cost at most {@link MEASURE_SPLIT_COST} times it, since the
 * split then also measures. On a real GPU a small op takes a fraction of a millisecond whole, and
 * cutting it into a dozen chunks over the GPU and the workers costs more in dispatches and
 * readbacks than the workers add (an H200 showed every op of a DAG split, 8× slower than all on
 * the GPU).
 */
export function worthSplitting(key: string, extent: number, able: readonly Backend[], model: CostModel, policy: Policy): boolean {
  const parts = splitDevices(able, policy);
  if (parts.length < 2) return false;
  if (policy === 'eager') return true;
  const times = parts.map((b) => model.predictKernel(key, b.device.id, extent));
  if (times.some((t) => t === undefined)) return true;
  // The fastest device alone may be one the split leaves out (a software GPU faster than the workers).
  const whole = Math.min(...able.map((b) => model.predictKernel(key, b.device.id, extent) ?? Infinity));
  const split = predictSplitMs(key, extent, parts, model);
  if (split === undefined) return true;
  // A prediction from too few, old or contradicted samples must not keep a device out: the split measures it.
  if (parts.some((b) => model.confidence(key, b.device.id, extent).uncertain)) return split <= whole * MEASURE_SPLIT_COST;
  return split * SPLIT_GAIN <= whole;
}

/**
 * Predicted ms of a split of `extent` over `able` as {@link ChunkSizer} would cut it: shares by
 * predicted throughput, each device's share taken in halving chunks down to the smallest chunk,
 * each chunk predicted at its own size (so the fit's fixed cost per run counts once per chunk).
 * The split ends with its slowest device. Undefined when a device was never measured.
 */
export function predictSplitMs(key: string, extent: number, able: readonly Backend[], model: CostModel): number | undefined {
  const whole = able.map((b) => model.predictKernel(key, b.device.id, extent));
  if (whole.some((t) => t === undefined || !(t > 0))) return undefined;
  const rates = (whole as number[]).map((t) => 1 / t);
  const total = rates.reduce((a, b) => a + b, 0);
  let slowest = 0;
  able.forEach((b, i) => {
    const smallest = Math.max(1, extent / (32 * able.length)) * Math.max(1, b.device.lanes);
    let left = (extent * rates[i]!) / total;
    let ms = 0;
    while (left > 0) {
      const chunk = left / 2 >= smallest ? left / 2 : left;
      ms += model.predictKernel(key, b.device.id, chunk) ?? 0;
      left -= chunk;
    }
    slowest = Math.max(slowest, ms);
  });
  return slowest;
}

/** How a split is sized: a policy, or a static share per device id. */
export interface SplitSizing {
  readonly policy: Policy;
  /**
   * A static split: each device id's share of the index space, run as one contiguous chunk per
   * device with no self-scheduling (an oracle's, or a user's, choice). Shares are normalised.
   */
  readonly shares?: Readonly<Record<string, number>>;
}

/**
 * Hands out the chunks of one split: {@link ChunkSizer.take} gives a device its next range,
 * {@link ChunkSizer.measured} corrects that device's rate from a finished chunk, and a failed
 * device's chunk {@link ChunkSizer.giveBack | goes back} to the others.
 */
export class ChunkSizer {
  private readonly units: number;
  private next = 0;
  private remainingUnits: number;
  private readonly returned: IndexRange[] = [];
  private readonly rate = new Map<Backend, number>();
  private readonly alive: Set<Backend>;
  private readonly staticQueues: Map<Backend, IndexRange[]> | undefined;
  /** No chunk smaller than this: per-chunk costs (a message, a dispatch) would outweigh its work. */
  private readonly minUnits: number;

  constructor(
    key: string,
    private readonly extent: number,
    private readonly align: number,
    backends: readonly Backend[],
    model: CostModel,
    private readonly sizing: SplitSizing,
  ) {
    this.units = Math.ceil(extent / align);
    this.remainingUnits = this.units;
    this.alive = new Set(backends);
    this.minUnits = Math.max(1, Math.ceil(this.units / (32 * backends.length)));
    if (sizing.shares) {
      this.staticQueues = this.staticSplit(backends, sizing.shares);
      return;
    }
    // Throughput (units per ms) of each device: the model's prediction for its whole share, else unknown.
    if (sizing.policy !== 'eager') {
      for (const b of backends) {
        const t = model.predictKernel(key, b.device.id, extent);
        if (t !== undefined && t > 0) this.rate.set(b, this.units / t);
      }
    }
  }

  /** Whether work is left to hand out (fresh or given back). */
  get pending(): boolean {
    return this.returned.length > 0 || this.remainingUnits > 0;
  }

  /** Next range for `b`, or undefined when it has nothing more to do. */
  take(b: Backend): IndexRange | undefined {
    if (!this.alive.has(b)) return undefined;
    const back = this.returned.shift();
    if (back) return back;
    if (this.staticQueues) return this.staticQueues.get(b)?.shift();
    if (this.remainingUnits <= 0) return undefined;
    const alive = this.alive.size;
    let size: number;
    if (this.sizing.policy === 'eager') {
      size = Math.max(this.minUnits, Math.ceil(this.units / (8 * alive)));
    } else if (!this.rate.has(b)) {
      // No model yet: a probe chunk, small but real work, measures the device.
      size = Math.max(this.minUnits, Math.ceil(this.units / (16 * alive)));
    } else {
      const total = [...this.alive].reduce((s, d) => s + (this.rate.get(d) ?? 0), 0);
      const share = this.rate.get(b)! / Math.max(total, 1e-12);
      // Guided self-scheduling: half of this device's share of what remains.
      size = Math.max(this.minUnits, Math.ceil((this.remainingUnits * share) / 2));
    }
    // A device of several lanes (the CPU's workers) spreads a chunk over them: less than a
    // smallest chunk per lane leaves some idle, and times the few that ran as if they were all.
    size = Math.min(Math.max(size, this.minUnits * b.device.lanes), this.remainingUnits);
    const start = this.next;
    this.next += size;
    this.remainingUnits -= size;
    return { start: start * this.align, end: Math.min(this.extent, (start + size) * this.align) };
  }

  /** A chunk of `elements` took `ms` on `b`: its rate moves halfway to what it showed. */
  measured(b: Backend, elements: number, ms: number): void {
    if (!(ms > 0)) return;
    const measured = elements / this.align / ms;
    const old = this.rate.get(b);
    this.rate.set(b, old === undefined ? measured : 0.5 * old + 0.5 * measured);
  }

  /** `b` failed on `range`: it gets no more work, and the range goes to the others whole. */
  giveBack(b: Backend, range: IndexRange): void {
    this.alive.delete(b);
    this.returned.push(range);
  }

  /** Devices still taking work. */
  live(): ReadonlySet<Backend> {
    return this.alive;
  }

  /** Static: one contiguous chunk per device, in device order, sized by its share. */
  private staticSplit(backends: readonly Backend[], shares: Readonly<Record<string, number>>): Map<Backend, IndexRange[]> {
    const weights = backends.map((b) => Math.max(0, shares[b.device.id] ?? 0));
    const sum = weights.reduce((a, b) => a + b, 0);
    if (!(sum > 0)) throw new ArgumentError('shares', `positive shares for some of ${backends.map((b) => b.device.id).join(', ')}`, shares);
    let at = 0;
    const queues = new Map<Backend, IndexRange[]>();
    backends.forEach((b, i) => {
      const size = i === backends.length - 1 ? this.units - at : Math.round((this.units * weights[i]!) / sum);
      if (size > 0) queues.set(b, [{ start: at * this.align, end: Math.min(this.extent, (at + size) * this.align) }]);
      at += size;
    });
    this.next = this.units;
    this.remainingUnits = 0;
    return queues;
  }
}
