/**
 * sum/min/max/mean over a range: tree reductions down to one value per binding-sized piece, then
 * over those values. Resolves to the partial `[value]` (for mean, the range's sum).
 */
import { REDUCTIONS, type ReduceKernel, type Tensor } from '@tandem/core/backend';
import type { GpuContext } from '../context.ts';
import { f32, type Submission, withSubmission } from '../submission.ts';
import { WG } from '../wgsl/common.ts';
import { REDUCE_GROUPS, reduceShader } from '../wgsl/reduce.ts';
import { chunks, window, windowElements } from '../window.ts';
import type { Driver } from './common.ts';

export const runReduce: Driver = async (ctx, call, range) => {
  const op = call.kernel as ReduceKernel;
  const identity = REDUCTIONS[op].identity;
  if (range.end === range.start) return [identity];
  // sum and mean fold alike; one pipeline serves both.
  const key = op === 'mean' ? 'sum' : op;
  const pipeline = await ctx.pipelines.get(`reduce/${key}`, () => reduceShader(key));
  return withSubmission(ctx, async (sub) => {
    const x = sub.input(call.args[0] as Tensor);
    const pieces = chunks(range.start, range.end, windowElements(ctx.limits));
    const results = sub.temp(pieces.length * 4);
    pieces.forEach((c, i) => fold(ctx, sub, pipeline, identity, x, c.start, c.end - c.start, results, i));
    let final = results;
    if (pieces.length > 1) {
      final = sub.temp(4);
      fold(ctx, sub, pipeline, identity, results, 0, pieces.length, final, 0);
    }
    const r = sub.readback(final, 0, 4);
    await sub.submit();
    const [value] = await sub.values(r, 'f32');
    return [value!];
  });
};

/** Records the passes folding `n` elements of `src` from `start` into `dst[at]`. */
function fold(ctx: GpuContext, sub: Submission, pipeline: GPUComputePipeline, identity: number, src: GPUBuffer, start: number, n: number, dst: GPUBuffer, at: number): void {
  for (;;) {
    const groups = Math.min(REDUCE_GROUPS, Math.ceil(n / WG));
    const sw = window(src, start, n, ctx.limits);
    const target = groups === 1 ? dst : sub.temp(groups * 4);
    const dw = window(target, groups === 1 ? at : 0, groups, ctx.limits);
    sub.dispatch(pipeline, [sw.resource, dw.resource], groups, [n, sw.delta, dw.delta, groups, f32(identity)]);
    if (groups === 1) return;
    src = target;
    start = 0;
    n = groups;
  }
}
