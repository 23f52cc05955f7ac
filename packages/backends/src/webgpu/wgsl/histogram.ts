/**
 * Histogram with atomics. With few enough bins each workgroup counts into its own copy in
 * workgroup memory and adds it to the global counts once, so the global atomics see one add per
 * bin per workgroup instead of one per element; with many bins the threads add to global memory.
 *
 * The bin of a value follows `histogramBin` exactly, although that is defined in float64: the
 * driver precomputes each bin's lower edge as the smallest float32 that lands in it, and the
 * shader corrects its float32 estimate against those edges. NaN and values outside [lo, hi) are
 * skipped.
 */
import { COMMON, ENTRY_ARGS, WG, strideLoop } from './common.ts';

/** Workgroups of one histogram dispatch at most: each walks the input with a grid stride. */
export const HISTOGRAM_GROUPS = 512;

/**
 * Params: n, din, bins, groups (in the dispatch), lo, scale (bins / (hi - lo)), lo_edge, hi_edge.
 * Bindings: x, edges (bins + 1 float32 lower edges), counts (atomic u32), params.
 * `sharedBins` > 0 selects the workgroup-memory variant with that many slots (≥ bins).
 */
export function histogramShader(sharedBins: number): string {
  const shared = sharedBins > 0;
  return /* wgsl */ `
${COMMON}
struct Params { n: u32, din: u32, bins: u32, groups: u32, lo: f32, scale: f32, lo_edge: f32, hi_edge: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> edges: array<f32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(3) var<uniform> p: Params;
${shared ? `var<workgroup> local: array<atomic<u32>, ${sharedBins}>;` : ''}

fn bin_of(v: f32) -> i32 {
  if (is_nan(v) || !(v >= p.lo_edge) || !(v < p.hi_edge)) { return -1; }
  var b = u32(clamp(floor((v - p.lo) * p.scale), 0.0, f32(p.bins - 1u)));
  loop {
    if (b > 0u && v < edges[b]) { b = b - 1u; }
    else if (b + 1u < p.bins && v >= edges[b + 1u]) { b = b + 1u; }
    else { break; }
  }
  return i32(b);
}

@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  ${shared ? `for (var i = li; i < p.bins; i += ${WG}u) { atomicStore(&local[i], 0u); }
  workgroupBarrier();` : ''}
  ${strideLoop('p.n', 'p.groups')} {
    let b = bin_of(x[p.din + i]);
    if (b >= 0) { atomicAdd(&${shared ? 'local' : 'counts'}[u32(b)], 1u); }
  }
  ${shared ? `workgroupBarrier();
  for (var i = li; i < p.bins; i += ${WG}u) {
    let c = atomicLoad(&local[i]);
    if (c > 0u) { atomicAdd(&counts[i], c); }
  }` : ''}
}
`;
}
