/** Small statistics helpers shared by the benches. */

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly mean: number;
}

/** Sorts a copy ascending (numerically). */
export function sorted(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** Nearest-rank percentile (p in 0..100) of values already sorted ascending. */
export function percentileSorted(sortedValues: ArrayLike<number>, p: number): number {
  const n = sortedValues.length;
  if (n === 0) return Number.NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sortedValues[rank - 1]!;
}

export function median(values: ArrayLike<number>): number {
  const s = sorted(values);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export function summarize(values: ArrayLike<number>): Summary {
  const s = sorted(values);
  const n = s.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i]!;
  return { n, min: n ? s[0]! : Number.NaN, median: median(s), max: n ? s[n - 1]! : Number.NaN, mean: n ? sum / n : Number.NaN };
}

/** Latency distribution of one measured run, in milliseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export function latencySummary(latenciesMs: ArrayLike<number>): LatencySummary {
  const s = sorted(latenciesMs);
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i]!;
  return {
    p50: percentileSorted(s, 50),
    p90: percentileSorted(s, 90),
    p99: percentileSorted(s, 99),
    max: s.length ? s[s.length - 1]! : Number.NaN,
    mean: s.length ? sum / s.length : Number.NaN,
  };
}
