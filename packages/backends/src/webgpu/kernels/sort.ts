/**
 * Sort of a range (ascending, NaN last) by an 8-pass radix sort on the device. The whole range is
 * one binding (keys scatter anywhere in it), so a range longer than the binding limit is refused
 * with the most it takes: the session's sort merge combines runs of shorter ranges.
 */
import { ArgumentError, type Tensor } from '@tandem/core/backend';
import { strideGroups } from '../wgsl/common.ts';
import { RADIX_BITS, SORT_BLOCK, sortCountShader, sortDecodeShader, sortEncodeShader, sortScatterShader } from '../wgsl/sort.ts';
import { window, windowElements } from '../window.ts';
import { finishOutput, outputTarget, type Driver } from './common.ts';
import { encodeScan, scanPipelines } from './scan.ts';
import { withSubmission } from '../submission.ts';

const DIGITS = 1 << RADIX_BITS;

export const runSort: Driver = async (ctx, call, range) => {
  const n = range.end - range.start;
  if (n === 0) return undefined;
  const max = windowElements(ctx.limits);
  if (n > max) {
    throw new ArgumentError('range', `at most ${max} elements per sort run on this WebGPU device (its ${ctx.limits.maxBindingBytes}-byte binding limit); split the call into shorter ranges and merge them`, `${n} elements`);
  }
  const [encode, decode, count, scatter, scan] = await Promise.all([
    ctx.pipelines.get('sort/encode', sortEncodeShader),
    ctx.pipelines.get('sort/decode', sortDecodeShader),
    ctx.pipelines.get('sort/count', sortCountShader),
    ctx.pipelines.get('sort/scatter', sortScatterShader),
    scanPipelines(ctx, 'u32'),
  ]);
  return withSubmission(ctx, async (sub) => {
    const x = sub.input(call.args[0] as Tensor);
    const out = outputTarget(sub, call, range);
    const keys = [sub.temp(n * 4), sub.temp(n * 4)].map((b) => window(b, 0, n, ctx.limits));
    const blocks = Math.ceil(n / SORT_BLOCK);
    const hist = window(sub.temp(DIGITS * blocks * 4), 0, DIGITS * blocks, ctx.limits);
    const xw = window(x, range.start, n, ctx.limits);
    const groups = strideGroups(n);
    sub.dispatch(encode, [xw.resource, keys[0]!.resource], groups, [n, xw.delta, groups]);
    for (let pass = 0, shift = 0; shift < 32; pass++, shift += RADIX_BITS) {
      const src = keys[pass % 2]!;
      const dst = keys[(pass + 1) % 2]!;
      sub.dispatch(count, [src.resource, hist.resource], blocks, [n, shift, blocks]);
      encodeScan(ctx, sub, scan, hist, DIGITS * blocks, true);
      sub.dispatch(scatter, [src.resource, dst.resource, hist.resource], blocks, [n, shift, blocks]);
    }
    const ow = window(out.buffer, out.at(range.start), n, ctx.limits);
    sub.dispatch(decode, [keys[0]!.resource, ow.resource], groups, [n, ow.delta, groups]);
    await finishOutput(sub, call, range, out);
    return undefined;
  });
};
