/**
 * Histogram of a range: atomic counts on the device, accumulated over binding-sized pieces of the
 * input. Resolves to the partial (the bin counts).
 */
import { histogramEdges, type Tensor } from '@tandem/core/backend';
import { f32, withSubmission } from '../submission.ts';
import { WG } from '../wgsl/common.ts';
import { HISTOGRAM_GROUPS, histogramShader } from '../wgsl/histogram.ts';
import { chunks, window, windowElements } from '../window.ts';
import type { Driver } from './common.ts';

/** Most bins a workgroup keeps in workgroup memory (half the 16 KiB every device has, leaving room). */
const SHARED_BINS = 4096;

export const runHistogram: Driver = async (ctx, call, range) => {
  const { bins, lo, hi } = call.params as { bins: number; lo: number; hi: number };
  if (range.end === range.start) return new Array<number>(bins).fill(0);
  const shared = bins <= SHARED_BINS && ctx.limits.workgroupStorageBytes >= SHARED_BINS * 4 ? SHARED_BINS : 0;
  const pipeline = await ctx.pipelines.get(`histogram/${shared ? 'shared' : 'global'}`, () => histogramShader(shared));
  const edges = histogramEdges(bins, lo, hi);
  return withSubmission(ctx, async (sub) => {
    const x = sub.input(call.args[0] as Tensor);
    const eb = sub.temp(edges.byteLength);
    ctx.write(eb, 0, edges);
    const counts = sub.temp(bins * 4);
    sub.clear(counts, 0, bins * 4);
    const ew = window(eb, 0, bins + 1, ctx.limits);
    const cw = window(counts, 0, bins, ctx.limits);
    const scale = bins / (hi - lo);
    for (const c of chunks(range.start, range.end, windowElements(ctx.limits))) {
      const n = c.end - c.start;
      const xw = window(x, c.start, n, ctx.limits);
      const groups = Math.min(HISTOGRAM_GROUPS, Math.ceil(n / WG));
      sub.dispatch(pipeline, [xw.resource, ew.resource, cw.resource], groups, [
        n, xw.delta, bins, groups, f32(lo), f32(scale), f32(edges[0]!), f32(edges[bins]!),
      ]);
    }
    const r = sub.readback(counts, 0, bins * 4);
    await sub.submit();
    return Array.from(await sub.values(r, 'u32'));
  });
};
