/**
 * Fits t(n) = a·nᵇ + c (a, c ≥ 0) to measured (size, time) pairs — StarPU's history-based
 * performance model. For a fixed b the fit is linear least squares in (a, c); b is found by a
 * coarse grid refined around the best point. Errors are relative, so small and large sizes weigh
 * the same.
 */
export interface PowerLaw {
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

export interface Sample {
  readonly n: number;
  readonly t: number;
}

export function predictPower(model: PowerLaw, n: number): number {
  return model.a * Math.pow(Math.max(n, 0), model.b) + model.c;
}

/**
 * Bounds on the exponent. Sizes are element counts of a kernel's index space, and no kernel we
 * run grows faster than quadratically in those (matmul: e^1.5 in output elements); a fit outside
 * is noise — a compile on first use, a fixed cost — and would extrapolate absurdly.
 */
const MIN_B = 0.25;
const MAX_B = 2;
/** Weight of the prior toward b = 1, against the sum of squared relative errors. */
const PRIOR = 0.02;

/** One point per size, at the median time: a first run that compiled a shader doesn't drag the fit. */
function mediansBySize(samples: readonly Sample[]): Sample[] {
  const bySize = new Map<number, number[]>();
  for (const s of samples) {
    const list = bySize.get(s.n);
    if (list) list.push(s.t);
    else bySize.set(s.n, [s.t]);
  }
  return [...bySize].map(([n, ts]) => ({ n, t: median(ts) }));
}

/** The median of `values` (which it leaves unsorted); NaN for none. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Fits a model; `fixedB` pins the exponent (1 for transfers: latency + bytes / bandwidth). */
export function fitPower(samples: readonly Sample[], fixedB?: number): PowerLaw | undefined {
  const pts = mediansBySize(samples.filter((s) => s.n > 0 && Number.isFinite(s.t) && s.t >= 0));
  if (pts.length === 0) return undefined;
  const sizes = new Set(pts.map((p) => p.n));
  if (sizes.size === 1) {
    // One size: proportional to n (the usual shape of data-parallel work), no fixed cost known.
    const b = fixedB ?? 1;
    const mean = pts.reduce((s, p) => s + p.t, 0) / pts.length;
    return { a: mean / Math.pow(pts[0]!.n, b), b, c: 0 };
  }
  if (fixedB !== undefined || sizes.size === 2) return fitFixed(pts, fixedB ?? 1).model;
  // With few sizes and a large fixed cost, many exponents fit about equally; a weak prior toward
  // b = 1 (work linear in elements) decides those, and real curvature in the data overrides it.
  const score = (b: number) => {
    const r = fitFixed(pts, b);
    return { b, err: r.err + PRIOR * (b - 1) ** 2, model: r.model };
  };
  let best = score(1);
  for (let b = MIN_B; b <= MAX_B; b += 0.125) {
    const r = score(b);
    if (r.err < best.err) best = r;
  }
  for (let step = 0.0625; step >= 0.004; step /= 2) {
    for (const b of [best.b - step, best.b + step]) {
      if (b < MIN_B || b > MAX_B) continue;
      const r = score(b);
      if (r.err < best.err) best = r;
    }
  }
  return best.model;
}

/** Weighted least squares of t ≈ a·x + c with x = nᵇ and weights 1/t², with a, c clamped at 0. */
function fitFixed(pts: readonly Sample[], b: number): { model: PowerLaw; err: number } {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const p of pts) {
    const w = 1 / Math.max(p.t, 1e-9) ** 2;
    const x = Math.pow(p.n, b);
    sw += w;
    sx += w * x;
    sy += w * p.t;
    sxx += w * x * x;
    sxy += w * x * p.t;
  }
  const det = sw * sxx - sx * sx;
  let a = det > 0 ? (sw * sxy - sx * sy) / det : sy / Math.max(sx, 1e-300);
  let c = det > 0 ? (sy - a * sx) / sw : 0;
  if (c < 0) {
    c = 0;
    a = sxy / Math.max(sxx, 1e-300);
  }
  if (a < 0) {
    a = 0;
    c = sy / sw;
  }
  const model = { a, b, c };
  let err = 0;
  for (const p of pts) {
    const r = (predictPower(model, p.n) - p.t) / Math.max(p.t, 1e-9);
    err += r * r;
  }
  return { model, err };
}
