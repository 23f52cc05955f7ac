import { fitPower, median, predictPower, type PowerLaw, type Sample } from './power-fit.ts';

/** Most samples kept per key: newest win, so a model follows a device whose speed changes. */
const HISTORY = 64;

/** What a cost model holds for one (kernel, backend) or one device's transfers. */
export interface ModelEntry {
  readonly samples: Sample[];
  /**
   * When each sample was taken, on its kernel's clock (one tick per kept sample of that kernel on
   * any device); parallel to `samples`. In memory only: samples loaded from a cache are stamped 0.
   */
  readonly stamps: number[];
  fit: PowerLaw | undefined;
}

/**
 * Samples near a size a prediction needs before it is trusted (StarPU calibrates a history model
 * until it holds about this many per size).
 */
export const CONFIDENT_SAMPLES = 3;
/**
 * A device's newest nearby sample is old once this many samples of the same kernel were taken on
 * other devices since: the machine may have changed (load, clocks), so it is measured again. Each
 * nearby sample past {@link CONFIDENT_SAMPLES} doubles it (up to 2⁵×): a device whose re-measurements
 * keep agreeing is re-measured ever more rarely, so exploring it costs a vanishing share of the
 * work, while a contradiction still re-explores it at once.
 */
export const STALE_AFTER = 32;

/** The age (samples on other devices) past which a device with `samples` nearby samples is stale. */
export function staleAfter(samples: number): number {
  return STALE_AFTER * 2 ** Math.min(5, Math.max(0, samples - CONFIDENT_SAMPLES));
}
/**
 * Samples within this factor of a size count as "near" it — the size class of a prediction. A
 * window rather than fixed log₂ buckets, so that a size just past a bucket edge still sees the
 * samples next to it; wide enough that an exploration slice (⅛ of a node) counts for the node.
 */
export const NEAR_FACTOR = 16;
/** Another device's recent times over its earlier ones beyond this (either way) contradict a device's old samples. */
export const CONTRADICTION_FACTOR = 2;
/**
 * A device's own newest times over the ones just before them beyond this (either way): its speed
 * shifted — a load that came or went — and is worth measuring again. Wider than
 * {@link CONTRADICTION_FACTOR}: sub-millisecond GPU runs jitter by 2× on their own.
 */
export const SHIFT_FACTOR = 3;

/** How far a prediction can be trusted: see {@link CostModel.confidence}. */
export interface Confidence {
  /** Samples of the kernel on the device within {@link NEAR_FACTOR} of the size. */
  readonly samples: number;
  /** Samples of the kernel on other devices since the newest of those (Infinity when there is none). */
  readonly age: number;
  /** Other devices' recent times disagree by over 2× with their times back when this device was measured. */
  readonly contradicted: boolean;
  /** This device's newest near samples differ by over {@link SHIFT_FACTOR}× from the ones before them. */
  readonly shifted: boolean;
  /** Fewer than {@link CONFIDENT_SAMPLES} near samples, older than {@link STALE_AFTER}, contradicted or shifted: worth measuring again. */
  readonly uncertain: boolean;
}

/** The serialised form, as written to the cache file. */
export interface CostModelData {
  readonly kernels: Record<string, Sample[]>;
  readonly transfers: Record<string, Sample[]>;
}

/**
 * Learned run times (StarPU's history-based models): per `kernel@device`, measured (size, ms)
 * pairs and a fit of a·nᵇ + c that predicts sizes not yet seen; per device, transfer times
 * against bytes (latency + bytes / bandwidth).
 *
 * @example
 * ```ts
 * const model = new CostModel();
 * model.recordKernel('matmul', 'cpu', 1 << 20, 40);   // first run: compile and warm-up, not kept
 * model.recordKernel('matmul', 'cpu', 1 << 20, 12.5);
 * model.predictKernel('matmul', 'cpu', 1 << 22); // ms, extrapolated
 * ```
 */
export class CostModel {
  private readonly kernels = new Map<string, ModelEntry>();
  private readonly transfers = new Map<string, ModelEntry>();
  /**
   * Per kernel@device run in this process: the largest size run (see {@link CostModel.recordKernel}).
   * Not persisted: compiles happen per process.
   */
  private readonly largestRun = new Map<string, number>();
  /** Per kernel: samples kept on any device so far in this process (the clock of {@link ModelEntry.stamps}). */
  private readonly clock = new Map<string, number>();

  /**
   * Records a measured run. The first run of a kernel on a device in this process is left out:
   * it pays one-time costs (a shader compile, JIT, first allocations) that later runs don't, and
   * one such sample would make a fast device look slow until it was tried again. So is the first
   * run over {@link NEAR_FACTOR}× larger than any before it (after calibration slices, the first
   * whole batch: the JIT's optimised tier for a loop that now runs long, new buffers). Returns
   * whether the sample was kept (false for those runs, and for a size or time that is not valid).
   */
  recordKernel(kernel: string, device: string, size: number, ms: number): boolean {
    const key = `${kernel}@${device}`;
    const largest = this.largestRun.get(key);
    if (largest === undefined || size > largest * NEAR_FACTOR) {
      this.largestRun.set(key, size);
      return false;
    }
    if (size > largest) this.largestRun.set(key, size);
    const stamp = (this.clock.get(kernel) ?? 0) + 1;
    if (!record(this.kernels, key, size, ms, stamp)) return false;
    this.clock.set(kernel, stamp);
    return true;
  }

  /**
   * Predicted ms for `size`, or undefined when nothing was measured for this kernel on this device.
   * The fit over all sizes is scaled by how the samples near `size` (the newest few) sit against
   * it: a fit pulled off by an early outlier elsewhere (a calibration slice timed while the machine
   * was busy) then still predicts what was measured at this size. `localSamples` is how many of
   * those newest samples correct it (more: steadier against one noisy run, slower to follow a change).
   */
  predictKernel(kernel: string, device: string, size: number, localSamples = LOCAL_SAMPLES): number | undefined {
    const key = `${kernel}@${device}`;
    const ms = predict(this.kernels, key, size, undefined);
    const entry = this.kernels.get(key);
    if (ms === undefined || !entry?.fit) return ms;
    const ratios = newestNearRatios(entry.samples, entry.fit, size, localSamples);
    return ratios.length === 0 ? ms : ms * median(ratios);
  }

  /**
   * How far {@link CostModel.predictKernel} for this size can be trusted (StarPU keeps calibrating a
   * model until it has enough samples). Uncertain when the device has fewer than
   * {@link CONFIDENT_SAMPLES} samples near the size, when the newest of them is older than
   * {@link staleAfter} samples of the kernel on other devices, or when another device's times
   * since then differ by over {@link CONTRADICTION_FACTOR}× from its times before: the conditions
   * this device was measured in (a busy machine, a cold compile) no longer hold, so its speed
   * relative to the others is in doubt. The planner re-explores an uncertain device.
   */
  confidence(kernel: string, device: string, size: number): Confidence {
    const key = `${kernel}@${device}`;
    const entry = this.kernels.get(key);
    let samples = 0;
    let newest = Number.NEGATIVE_INFINITY;
    entry?.samples.forEach((s, i) => {
      if (!isNear(s.n, size)) return;
      samples++;
      newest = Math.max(newest, entry.stamps[i]!);
    });
    if (samples === 0) return { samples, age: Number.POSITIVE_INFINITY, contradicted: false, shifted: false, uncertain: true };
    // Counted from the kernel's clock, not from the samples kept: those are capped, the age isn't.
    const laterHere = entry!.stamps.filter((t) => t > newest).length;
    const age = (this.clock.get(kernel) ?? 0) - newest - laterHere;
    let contradicted = false;
    for (const [other, e] of this.kernels) {
      if (other === key || !other.startsWith(`${kernel}@`) || other.slice(kernel.length + 1).includes('@')) continue;
      e.fit ??= fitPower(e.samples);
      const before: number[] = [];
      const since: number[] = [];
      e.samples.forEach((s, i) => {
        const stamp = e.stamps[i]!;
        // Only samples near the size: far ones compare through the fit, whose error is no evidence.
        if (!isNear(s.n, size)) return;
        const fitted = e.fit ? predictPower(e.fit, s.n) : Number.NaN;
        if (!(fitted > 0) || !Number.isFinite(fitted)) return;
        (stamp > newest ? since : before).push(s.t / fitted);
      });
      // Two on each side at least: one odd run is noise, not a change of conditions.
      if (before.length >= 2 && since.length >= 2) {
        const change = median(since.slice(-LOCAL_SAMPLES)) / median(before.slice(-LOCAL_SAMPLES));
        if (change > CONTRADICTION_FACTOR || change * CONTRADICTION_FACTOR < 1) contradicted = true;
      }
    }
    const shifted = entry ? shiftedNear(entry, size) : false;
    return { samples, age, contradicted, shifted, uncertain: samples < CONFIDENT_SAMPLES || age > staleAfter(samples) || contradicted || shifted };
  }

  /** The newest `count` measurements of a kernel on a device, oldest first (empty when none). */
  newest(kernel: string, device: string, count: number): readonly Sample[] {
    return this.kernels.get(`${kernel}@${device}`)?.samples.slice(-count) ?? [];
  }

  /** How many measurements back a kernel's model on a device. */
  samples(kernel: string, device: string): number {
    return this.kernels.get(`${kernel}@${device}`)?.samples.length ?? 0;
  }

  recordTransfer(device: string, bytes: number, ms: number): void {
    record(this.transfers, device, bytes, ms);
  }

  /** Predicted ms to move `bytes` between host and `device`, or undefined when never measured. */
  predictTransfer(device: string, bytes: number): number | undefined {
    if (bytes <= 0) return 0;
    return predict(this.transfers, device, bytes, 1);
  }

  /** The fitted models, for display (`tandem calibrate`). */
  describe(): Array<{ key: string; kind: 'kernel' | 'transfer'; samples: number; fit: PowerLaw | undefined }> {
    const rows: Array<{ key: string; kind: 'kernel' | 'transfer'; samples: number; fit: PowerLaw | undefined }> = [];
    for (const [key, e] of this.kernels) rows.push({ key, kind: 'kernel', samples: e.samples.length, fit: (e.fit ??= fitPower(e.samples)) });
    for (const [key, e] of this.transfers) rows.push({ key, kind: 'transfer', samples: e.samples.length, fit: (e.fit ??= fitPower(e.samples, 1)) });
    return rows;
  }

  toJSON(): CostModelData {
    const dump = (m: Map<string, ModelEntry>) => Object.fromEntries([...m].map(([k, e]) => [k, e.samples]));
    return { kernels: dump(this.kernels), transfers: dump(this.transfers) };
  }

  /**
   * Rebuilds a model from {@link CostModel.toJSON}. Throws when the shape is wrong; entries whose
   * samples are not plausible measurements (see {@link isPlausibleSample}) are left out and their
   * keys reported through `dropped`, so one poisoned entry costs only its own recalibration.
   */
  static fromJSON(data: unknown, dropped: string[] = []): CostModel {
    const model = new CostModel();
    const d = data as Partial<CostModelData> | null;
    if (typeof d !== 'object' || d === null || typeof d.kernels !== 'object' || typeof d.transfers !== 'object') {
      throw new TypeError('cost model data must have kernels and transfers');
    }
    for (const [target, source] of [[model.kernels, d.kernels], [model.transfers, d.transfers]] as const) {
      for (const [key, samples] of Object.entries(source ?? {})) {
        if (!Array.isArray(samples) || samples.length === 0 || !samples.every(isPlausibleSample)) {
          dropped.push(key);
          continue;
        }
        const kept = samples.slice(-HISTORY).map((s) => ({ n: s.n, t: s.t }));
        target.set(key, { samples: kept, stamps: kept.map(() => 0), fit: undefined });
      }
    }
    return model;
  }
}

/** Largest size a sample may claim: an index space or byte count beyond exact doubles is no measurement. */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;
/** Longest time a sample may claim: a day. Anything longer came from a broken clock or a hand edit. */
const MAX_MS = 86_400_000;

/** A (size, ms) pair that could have been measured: finite, size in (0, 2⁵³), time in [0, a day]. */
export function isPlausibleSample(s: unknown): s is Sample {
  const { n, t } = (s ?? {}) as Partial<Sample>;
  return typeof n === 'number' && typeof t === 'number' && n > 0 && n <= MAX_SIZE && t >= 0 && t <= MAX_MS;
}

/** Newest samples near a size that correct the fit there, and that compare a device's times before and since. */
const LOCAL_SAMPLES = 5;

/**
 * Whether the newest {@link LOCAL_SAMPLES} samples near `size` sit over {@link SHIFT_FACTOR}×
 * away (as ratios to the fit) from the ones just before them. Without this, a few runs timed while
 * the machine was busy would make the device look slow for good: the planner stops giving it the
 * kernel, and nothing measures it again until it is stale. Only the window before the newest
 * counts, so a lasting change settles once the new speed fills both windows.
 */
function shiftedNear(entry: ModelEntry, size: number): boolean {
  entry.fit ??= fitPower(entry.samples);
  const fit = entry.fit;
  if (!fit) return false;
  const ratios = newestNearRatios(entry.samples, fit, size, 2 * LOCAL_SAMPLES);
  const recent = ratios.slice(0, LOCAL_SAMPLES);
  const before = ratios.slice(LOCAL_SAMPLES);
  if (recent.length < CONFIDENT_SAMPLES || before.length < CONFIDENT_SAMPLES) return false;
  const change = median(recent) / median(before);
  return change > SHIFT_FACTOR || change * SHIFT_FACTOR < 1;
}

/** Up to `count` of the newest samples near `size`, newest first, each as measured ÷ fitted. */
function newestNearRatios(samples: readonly Sample[], fit: PowerLaw, size: number, count: number): number[] {
  const ratios: number[] = [];
  for (let i = samples.length - 1; i >= 0 && ratios.length < count; i--) {
    const s = samples[i]!;
    if (!isNear(s.n, size)) continue;
    const fitted = predictPower(fit, s.n);
    if (fitted > 0 && Number.isFinite(fitted)) ratios.push(s.t / fitted);
  }
  return ratios;
}

function isNear(n: number, size: number): boolean {
  return n * NEAR_FACTOR >= size && n <= size * NEAR_FACTOR;
}

function record(map: Map<string, ModelEntry>, key: string, n: number, t: number, stamp = 0): boolean {
  if (!isPlausibleSample({ n, t })) return false;
  let entry = map.get(key);
  if (!entry) map.set(key, (entry = { samples: [], stamps: [], fit: undefined }));
  entry.samples.push({ n, t });
  entry.stamps.push(stamp);
  if (entry.samples.length > HISTORY) {
    entry.samples.splice(0, entry.samples.length - HISTORY);
    entry.stamps.splice(0, entry.stamps.length - HISTORY);
  }
  entry.fit = undefined;
  return true;
}

function predict(map: Map<string, ModelEntry>, key: string, n: number, fixedB: number | undefined): number | undefined {
  const entry = map.get(key);
  if (!entry || entry.samples.length === 0) return undefined;
  entry.fit ??= fitPower(entry.samples, fixedB);
  if (!entry.fit) return undefined;
  // A prediction the planner can't use (overflow far outside the measured sizes) counts as none.
  const ms = predictPower(entry.fit, n);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}
