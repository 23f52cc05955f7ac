/**
 * Per-group accumulators of `agg`: count, sum, sum of squares, min and max of each input column,
 * in float64, updated batch by batch (so a group-by streams: memory grows with the groups, not the
 * rows). `std` is the sample standard deviation (n − 1), as DuckDB's `stddev` and Polars' `std`.
 */

/** What `agg` computes per column. */
export type Aggregation = 'count' | 'sum' | 'mean' | 'min' | 'max' | 'std';
export const AGGREGATIONS: readonly Aggregation[] = ['count', 'sum', 'mean', 'min', 'max', 'std'];

export class Accumulator {
  count = new Float64Array(64);
  sum = new Float64Array(64);
  sumSq = new Float64Array(64);
  min = new Float64Array(64).fill(Infinity);
  max = new Float64Array(64).fill(-Infinity);

  /** `squares` for std; `extremes` for min and max: work no aggregation asked for is skipped. */
  constructor(private readonly squares: boolean, private readonly extremes = true) {}

  /** Adds values[i] to group groups[i] for every valid row. */
  add(values: ArrayLike<number>, validity: Uint8Array | undefined, groups: Int32Array, rows: number, groupCount: number): void {
    this.reserve(groupCount);
    const { count, sum, sumSq, min, max } = this;
    for (let i = 0; i < rows; i++) {
      if (validity && validity[i] === 0) continue;
      const v = values[i]!;
      if (Number.isNaN(v)) continue;
      const g = groups[i]!;
      count[g]! += 1;
      sum[g]! += v;
      if (this.squares) sumSq[g]! += v * v;
      if (this.extremes) {
        if (v < min[g]!) min[g] = v;
        if (v > max[g]!) max[g] = v;
      }
    }
  }

  /** Adds the groups of another accumulator's arrays (a node's partial): its group g is this one's ids[g]. */
  merge(from: { count: Float64Array; sum: Float64Array; sumSq: Float64Array; min: Float64Array; max: Float64Array }, ids: Int32Array, groups: number, groupCount: number): void {
    this.reserve(groupCount);
    for (let g = 0; g < groups; g++) {
      const G = ids[g]!;
      this.count[G]! += from.count[g]!;
      this.sum[G]! += from.sum[g]!;
      this.sumSq[G]! += from.sumSq[g]!;
      if (from.min[g]! < this.min[G]!) this.min[G] = from.min[g]!;
      if (from.max[g]! > this.max[G]!) this.max[G] = from.max[g]!;
    }
  }

  /** The aggregate of group g (NaN where it has no values, except count: 0). */
  value(what: Aggregation, g: number): number {
    const n = this.count[g] ?? 0;
    switch (what) {
      case 'count': return n;
      case 'sum': return n > 0 ? this.sum[g]! : NaN;
      case 'mean': return n > 0 ? this.sum[g]! / n : NaN;
      case 'min': return n > 0 ? this.min[g]! : NaN;
      case 'max': return n > 0 ? this.max[g]! : NaN;
      case 'std': {
        if (n < 2) return NaN;
        const mean = this.sum[g]! / n;
        return Math.sqrt(Math.max(0, (this.sumSq[g]! - n * mean * mean) / (n - 1)));
      }
    }
  }

  private reserve(groups: number): void {
    if (groups <= this.count.length) return;
    let size = this.count.length;
    while (size < groups) size *= 2;
    const grow = (a: Float64Array, fill: number) => {
      const b = new Float64Array(size).fill(fill);
      b.set(a);
      return b;
    };
    this.count = grow(this.count, 0);
    this.sum = grow(this.sum, 0);
    this.sumSq = grow(this.sumSq, 0);
    this.min = grow(this.min, Infinity);
    this.max = grow(this.max, -Infinity);
  }
}
