/**
 * Placement of data-parallel training: which devices get a replica and each replica's share of
 * the global batch, from the learned cost of one replica's step (forward and backward over its
 * share) per model signature, engine and device — kept in the session's {@link CostModel} beside
 * kernel costs, under the kernel key {@link trainingKernel}, sized by the replica's examples.
 * Pure: the trainer measures, this decides.
 */
import { createHash } from 'node:crypto';
import type { CostModel } from './cost-model.ts';

/**
 * Newest samples that correct the fit near a share. More than a kernel's: a training step's time
 * is noisy (a busy machine, GC) and the replicas' own rule corrects the rest online.
 */
const LOCAL_STEPS = 16;

/** A device that predicted throughput puts under this fraction of the fastest other device's gets no replica (under `replicas: 'auto'`). */
export const SLOW_DEVICE_FRACTION = 1 / 8;

/** What placement needs to know of a device. */
export interface TrainingDevice {
  readonly id: string;
  readonly kind: 'cpu' | 'gpu';
  /** A software rasteriser (lavapipe): it computes on the CPU's cores. */
  readonly software: boolean;
  readonly description?: string;
}

/** One replica that could be placed: the engine it would train on, and its device. */
export interface TrainingCandidate {
  readonly engine: string;
  readonly device: TrainingDevice;
}

export interface PlacedReplica {
  /** Index in the candidates. */
  readonly candidate: number;
  readonly engine: string;
  readonly device: string;
  /** Fraction of the global batch (sums to 1 over the placed replicas). */
  readonly share: number;
  /** Predicted examples per ms at that share; undefined when this (model, engine, device) was never measured. */
  readonly throughput: number | undefined;
  /** Predicted ms of one step's compute at that share. */
  readonly predictedStepMs: number | undefined;
}

export interface ExcludedReplica {
  readonly candidate: number;
  readonly engine: string;
  readonly device: string;
  /** Why it gets no replica, in words for explain(). */
  readonly reason: string;
}

export interface TrainingPlan {
  readonly replicas: readonly PlacedReplica[];
  readonly excluded: readonly ExcludedReplica[];
}

export interface TrainingPlanInput {
  readonly costs: CostModel;
  /** {@link modelSignature} of the model. */
  readonly signature: string;
  readonly batchSize: number;
  readonly candidates: readonly TrainingCandidate[];
  /**
   * The devices were chosen by Tandem (`replicas: 'auto'`): leave out a software GPU and a device
   * predicted under {@link SLOW_DEVICE_FRACTION} of the fastest other. Devices the user listed are kept.
   */
  readonly auto: boolean;
}

/**
 * A short, stable name for a model's shape: its input shape and every weight's shape. Two models
 * with the same signature cost the same to train.
 *
 * @example
 * ```ts
 * modelSignature([null, 784], [[784, 32], [32], [32, 10], [10]]); // 16 hex digits, e.g. '3f9c…'
 * ```
 */
export function modelSignature(inputShape: readonly (number | null)[], weightShapes: readonly (readonly number[])[]): string {
  return createHash('sha256').update(JSON.stringify([inputShape, weightShapes])).digest('hex').slice(0, 16);
}

/**
 * The cost model's kernel key of one replica's training step (a sample's size is the replica's examples).
 *
 * @example
 * ```ts
 * costs.recordKernel(trainingKernel(sig, 'wasm'), 'cpu', 128, 9.5);
 * ```
 */
export function trainingKernel(signature: string, engine: string): string {
  return `train:${engine}:${signature}`;
}

/** Predicted examples/ms of `engine` on `device` for a share of `examples`, or undefined when never measured. */
export function predictThroughput(costs: CostModel, signature: string, engine: string, device: string, examples: number): number | undefined {
  const n = Math.max(1, Math.round(examples));
  const ms = costs.predictKernel(trainingKernel(signature, engine), device, n, LOCAL_STEPS);
  return ms !== undefined && ms > 0 ? n / ms : undefined;
}

/**
 * Why `device` gets no replica under `replicas: 'auto'` whatever the model, or undefined: a
 * software GPU computes on the same cores as the CPU replicas, so its replica would only slow them.
 *
 * @example
 * ```ts
 * unfitForTraining({ id: 'webgpu:0', kind: 'gpu', software: true }); // 'a software GPU: …'
 * ```
 */
export function unfitForTraining(device: TrainingDevice): string | undefined {
  if (device.kind !== 'gpu' || !device.software) return undefined;
  return `a software GPU${device.description ? ` (${device.description})` : ''}: it computes on the same cores as the CPU replicas, so a replica there would slow the step`;
}

/**
 * Places training replicas: shares proportional to each replica's predicted throughput at the
 * sizes it ran at lately — the split the replicas' own rule settled at — with unmeasured
 * replicas counted at the mean of the measured ones' throughput (all equal when none is
 * measured); and under `auto` the devices that would slow the step are left out, with the
 * reason. Each placed replica's `throughput` is what seeds the replicas' rule, so their first
 * split is this one.
 *
 * @example
 * ```ts
 * const plan = planTraining({ costs: td.costs, signature, batchSize: 256, auto: true, candidates: [
 *   { engine: 'wasm', device: cpu }, { engine: 'wasm', device: cpu }, { engine: 'webgpu', device: gpu },
 * ] });
 * plan.replicas.map((r) => r.share); // e.g. [0.2, 0.2, 0.6]
 * ```
 */
export function planTraining(input: TrainingPlanInput): TrainingPlan {
  const { costs, signature, batchSize, candidates, auto } = input;
  const excluded: ExcludedReplica[] = [];
  const exclude = (i: number, reason: string) => excluded.push({ candidate: i, engine: candidates[i]!.engine, device: candidates[i]!.device.id, reason });
  let kept = candidates.map((_, i) => i);
  if (auto) {
    for (const i of kept) {
      const why = unfitForTraining(candidates[i]!.device);
      if (why) exclude(i, why);
    }
    kept = kept.filter((i) => !excluded.some((e) => e.candidate === i));
  }
  let shares = share(costs, signature, batchSize, candidates, kept);
  if (auto) {
    // Per device: the predicted throughput of all its replicas together.
    const byDevice = new Map<string, number>();
    for (const [k, i] of kept.entries()) {
      const rate = shares.rates[k];
      if (rate === undefined) continue;
      const id = candidates[i]!.device.id;
      byDevice.set(id, (byDevice.get(id) ?? 0) + rate);
    }
    const slow = new Set<string>();
    for (const [id, rate] of byDevice) {
      const fastestOther = Math.max(0, ...[...byDevice].filter(([other]) => other !== id).map(([, r]) => r));
      if (fastestOther > 0 && rate < SLOW_DEVICE_FRACTION * fastestOther) slow.add(id);
    }
    if (slow.size > 0 && slow.size < byDevice.size) {
      for (const i of kept) {
        const id = candidates[i]!.device.id;
        if (!slow.has(id)) continue;
        const rate = byDevice.get(id)!;
        const fastest = Math.max(...[...byDevice].filter(([other]) => !slow.has(other)).map(([, r]) => r));
        exclude(i, `predicted ${(rate * 1000).toFixed(0)} examples/s, under 1/8 of ${[...byDevice].find(([, r]) => r === fastest)![0]}'s ${(fastest * 1000).toFixed(0)}: the others would wait for it at every step`);
      }
      kept = kept.filter((i) => !slow.has(candidates[i]!.device.id));
      shares = share(costs, signature, batchSize, candidates, kept);
    }
  }
  return {
    replicas: kept.map((i, k) => ({
      candidate: i,
      engine: candidates[i]!.engine,
      device: candidates[i]!.device.id,
      share: shares.fractions[k]!,
      throughput: shares.rates[k],
      predictedStepMs: shares.rates[k] === undefined ? undefined : (shares.fractions[k]! * batchSize) / shares.rates[k]!,
    })),
    excluded,
  };
}

/**
 * Fractions of the batch for the `kept` candidates: the replicas' own rule (share ∝ throughput)
 * applied to what was measured last. Each measured replica is predicted at the size it ran at
 * lately (the median of its newest samples), scaled so those sizes fill this batch — for the
 * same batch, exactly where the last run settled. Only the fit's local correction is trusted, not
 * its slope: a step that is mostly fixed cost (tfjs dispatch on a small model) fits nearly flat,
 * and solving for equal step times on that slope, or iterating "share → rate at that share",
 * runs away from what was measured. Unmeasured replicas get the mean of the measured ones'
 * throughput; none measured: equal.
 */
function share(costs: CostModel, signature: string, batchSize: number, candidates: readonly TrainingCandidate[], kept: readonly number[]): { fractions: number[]; rates: Array<number | undefined> } {
  const keyOf = (k: number) => [trainingKernel(signature, candidates[kept[k]!]!.engine), candidates[kept[k]!]!.device.id] as const;
  const lately = kept.map((_, k) => {
    const sizes = costs.newest(...keyOf(k), LOCAL_STEPS).map((s) => s.n).sort((a, b) => a - b);
    return sizes.length > 0 ? sizes[sizes.length >> 1]! : undefined;
  });
  const measuredTotal = lately.reduce<number>((sum, n) => sum + (n ?? 0), 0);
  const measuredCount = lately.filter((n) => n !== undefined).length;
  if (measuredCount === 0) return { fractions: kept.map(() => 1 / Math.max(1, kept.length)), rates: kept.map(() => undefined) };
  // The measured replicas' part of this batch, in the proportions they last ran at.
  const scale = (batchSize * (measuredCount / kept.length)) / measuredTotal;
  const rates = lately.map((n, k) => {
    if (n === undefined) return undefined;
    const size = Math.max(1, n * scale);
    const ms = costs.predictKernel(...keyOf(k), size, LOCAL_STEPS);
    return ms !== undefined && ms > 0 ? size / ms : undefined;
  });
  const known = rates.filter((r): r is number => r !== undefined);
  const mean = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  const weights = rates.map((r) => r ?? mean);
  const sum = weights.reduce((a, b) => a + b, 0);
  return { fractions: weights.map((w) => w / sum), rates };
}
