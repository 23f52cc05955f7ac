/**
 * The `histogram` aggregation: per group, counts of a column's values in `bins` equal-width bins
 * over `range` (values below the range count in the first bin, values at or above it in the last:
 * nothing is dropped silently, and the edges say which bins are open-ended).
 */
import { ArgumentError } from '../../errors.ts';

/** `agg({ delay: { histogram: { bins: 24, range: [-60, 180] } } })`. */
export interface HistogramSpec {
  readonly histogram: { readonly bins: number; readonly range: readonly [number, number] };
}

export function isHistogramSpec(v: unknown): v is HistogramSpec {
  return typeof v === 'object' && v !== null && 'histogram' in v;
}

export function checkHistogram(v: HistogramSpec, argument: string): { bins: number; lo: number; hi: number } {
  const h = v.histogram as { bins?: unknown; range?: unknown } | undefined;
  if (typeof h !== 'object' || h === null) throw new ArgumentError(argument, '{ histogram: { bins, range: [lo, hi] } }', h);
  if (!Number.isSafeInteger(h.bins) || (h.bins as number) < 1 || (h.bins as number) > 4096) throw new ArgumentError(`${argument}.histogram.bins`, 'an integer from 1 to 4096', h.bins);
  const r = h.range as unknown[];
  if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number' && Number.isFinite(x)) || !((r[0] as number) < (r[1] as number))) {
    throw new ArgumentError(`${argument}.histogram.range`, '[lo, hi] with finite lo < hi', h.range);
  }
  return { bins: h.bins as number, lo: r[0] as number, hi: r[1] as number };
}

/** Bin counts per group, flat: group g's bin i at g·bins + i. */
export class HistogramAccumulator {
  counts = new Int32Array(0);
  constructor(readonly bins: number, readonly lo: number, readonly hi: number) {}

  add(values: ArrayLike<number>, validity: Uint8Array | undefined, groups: Int32Array, rows: number, groupCount: number): void {
    this.reserve(groupCount);
    const { bins, lo } = this;
    const scale = bins / (this.hi - lo);
    for (let i = 0; i < rows; i++) {
      if (validity && validity[i] === 0) continue;
      const v = values[i]!;
      if (Number.isNaN(v)) continue;
      const b = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) * scale)));
      this.counts[groups[i]! * bins + b]!++;
    }
  }

  /** Adds another histogram's counts (a node's partial): its group g is this one's ids[g]. */
  merge(counts: Int32Array, ids: Int32Array, groups: number, groupCount: number): void {
    this.reserve(groupCount);
    const { bins } = this;
    for (let g = 0; g < groups; g++) for (let i = 0; i < bins; i++) this.counts[ids[g]! * bins + i]! += counts[g * bins + i]!;
  }

  private reserve(groupCount: number): void {
    if (this.counts.length >= groupCount * this.bins) return;
    const grown = new Int32Array(Math.max(groupCount, (this.counts.length / this.bins) * 2) * this.bins);
    grown.set(this.counts);
    this.counts = grown;
  }

  /** Bin `bin`'s count in group g. */
  count(g: number, bin: number): number {
    return this.counts[g * this.bins + bin] ?? 0;
  }

  /** `<column>_hist_<i>` names, one per bin. */
  static names(column: string, bins: number): string[] {
    return Array.from({ length: bins }, (_, i) => `${column}_hist_${i}`);
  }
}
