/**
 * 'same' conv2d over whole output rows, in pieces whose output rows plus the filter's halo rows of
 * the image fit a binding window. The filter is bound whole, so one larger than the binding limit
 * is refused.
 */
import { ArgumentError, type Tensor } from '@tandem/core/backend';
import { strideGroups } from '../wgsl/common.ts';
import { conv2dShader } from '../wgsl/conv2d.ts';
import { chunks, window, windowElements } from '../window.ts';
import { assertFitsBinding, finishOutput, outputTarget, type Driver } from './common.ts';
import { withSubmission } from '../submission.ts';

export const runConv2d: Driver = async (ctx, call, range) => {
  const img = call.args[0] as Tensor;
  const filter = call.args[1] as Tensor;
  const [h, w] = img.shape as [number, number];
  const [kh, kw] = filter.shape as [number, number];
  if (range.end === range.start) return undefined;
  assertFitsBinding(ctx, filter.data.byteLength, 'args[1]', 'a filter');
  const halo = (kh - 1) / 2;
  const maxRows = Math.floor(windowElements(ctx.limits) / w) - 2 * halo;
  if (maxRows < 1) {
    throw new ArgumentError('args[0].shape', `images whose ${kh} rows (one filter height) fit one binding of ${ctx.limits.maxBindingBytes} bytes on this WebGPU device`, `[${h}, ${w}]`);
  }
  const pipeline = await ctx.pipelines.get('conv2d', conv2dShader);
  return withSubmission(ctx, async (sub) => {
    const ib = sub.input(img);
    const fb = sub.input(filter);
    const out = outputTarget(sub, call, range);
    const fw = window(fb, 0, kh * kw, ctx.limits);
    for (const c of chunks(range.start / w, range.end / w, maxRows)) {
      const rows = c.end - c.start;
      const in0 = Math.max(0, c.start - halo);
      const in1 = Math.min(h, c.end + halo);
      const iw = window(ib, in0 * w, (in1 - in0) * w, ctx.limits);
      const ow = window(out.buffer, out.at(c.start * w), rows * w, ctx.limits);
      const groups = strideGroups(rows * w);
      sub.dispatch(pipeline, [iw.resource, fw.resource, ow.resource], groups, [rows, w, h, c.start, in0, iw.delta, ow.delta, kh, kw, groups]);
    }
    await finishOutput(sub, call, range, out);
    return undefined;
  });
};
