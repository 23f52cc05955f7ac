/**
 * Reductions over one chunk, in float64. A partial is `[value]` (mean: the sum) or, for
 * histogram, the bin counts; the main thread combines chunk partials with core's REDUCTIONS.
 */

type F32 = Float32Array;

export function sum(x: F32): number {
  let acc = 0;
  for (let i = 0; i < x.length; i++) acc += x[i]!;
  return acc;
}

/** -0 counts as below +0 (as Math.min does, and the elementwise minimum), whatever their order. */
export function min(x: F32): number {
  let m = Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < m) m = v;
    else if (v !== v) return NaN;
    else if (v === 0 && m === 0 && 1 / v < 0) m = v;
  }
  return m;
}

export function max(x: F32): number {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v > m) m = v;
    else if (v !== v) return NaN;
    else if (v === 0 && m === 0 && 1 / v > 0) m = v;
  }
  return m;
}

/** Same arithmetic as core's `histogramBin`, so bin edges fall exactly where it puts them. */
export function histogram(x: F32, bins: number, lo: number, hi: number): number[] {
  const counts = new Uint32Array(bins);
  const width = hi - lo;
  const last = bins - 1;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v >= lo && v < hi)) continue;
    const b = Math.floor(((v - lo) / width) * bins);
    counts[b < last ? b : last]!++;
  }
  return Array.from(counts);
}

export function reduce(kernel: string, x: F32, params: Readonly<Record<string, number>>): number[] {
  switch (kernel) {
    case 'sum':
    case 'mean':
      return [sum(x)];
    case 'min':
      return [min(x)];
    case 'max':
      return [max(x)];
    case 'histogram':
      return histogram(x, params.bins!, params.lo!, params.hi!);
    default:
      throw new Error(`cpu: no reduce kernel '${kernel}'`);
  }
}
