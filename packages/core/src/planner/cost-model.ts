import { fitPower, predictPower, type PowerLaw, type Sample } from './power-fit.ts';

/** Most samples kept per key: newest win, so a model follows a device whose speed changes. */
const HISTORY = 64;

/** What a cost model holds for one (kernel, backend) or one device's transfers. */
export interface ModelEntry {
  readonly samples: Sample[];
  fit: PowerLaw | undefined;
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
  /** Kernels this process has run once on a device. Not persisted: compiles happen per process. */
  private readonly warmed = new Set<string>();

  /**
   * Records a measured run. The first run of a kernel on a device in this process is left out:
   * it pays one-time costs (a shader compile, JIT, first allocations) that later runs don't, and
   * one such sample would make a fast device look slow until it was tried again. Returns whether
   * the sample was kept (false for that first run, and for a size or time that is not valid).
   */
  recordKernel(kernel: string, device: string, size: number, ms: number): boolean {
    const key = `${kernel}@${device}`;
    if (!this.warmed.has(key)) {
      this.warmed.add(key);
      return false;
    }
    return record(this.kernels, key, size, ms);
  }

  /** Predicted ms for `size`, or undefined when nothing was measured for this kernel on this device. */
  predictKernel(kernel: string, device: string, size: number): number | undefined {
    return predict(this.kernels, `${kernel}@${device}`, size, undefined);
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
        target.set(key, { samples: samples.slice(-HISTORY).map((s) => ({ n: s.n, t: s.t })), fit: undefined });
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

function record(map: Map<string, ModelEntry>, key: string, n: number, t: number): boolean {
  if (!isPlausibleSample({ n, t })) return false;
  let entry = map.get(key);
  if (!entry) map.set(key, (entry = { samples: [], fit: undefined }));
  entry.samples.push({ n, t });
  if (entry.samples.length > HISTORY) entry.samples.splice(0, entry.samples.length - HISTORY);
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
