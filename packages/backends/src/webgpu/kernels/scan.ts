/**
 * cumsum of a range (the local inclusive scan; the session's merge adds carries between ranges),
 * and the multi-level scan it shares with the radix sort.
 *
 * A range longer than one binding window is scanned piece by piece, each piece adding the last
 * value of the one before (kept on the device in a one-element carry buffer).
 */
import type { Tensor } from '@tandem/core/backend';
import type { GpuContext } from '../context.ts';
import { type Submission, withSubmission } from '../submission.ts';
import { SCAN_BLOCK, scanAddShader, scanCarryShader, scanShader, type ScanType } from '../wgsl/scan.ts';
import { chunks, window, windowElements, type Window } from '../window.ts';
import { finishOutput, outputTarget, type Driver } from './common.ts';

export interface ScanPipelines {
  readonly scan: GPUComputePipeline;
  readonly add: GPUComputePipeline;
}

export async function scanPipelines(ctx: GpuContext, t: ScanType): Promise<ScanPipelines> {
  const [scan, add] = await Promise.all([
    ctx.pipelines.get(`scan/${t}`, () => scanShader(t)),
    ctx.pipelines.get(`scan-add/${t}`, () => scanAddShader(t)),
  ]);
  return { scan, add };
}

/**
 * Records an in-place scan of the `n` elements `data` shows: block scans, a recursive scan of the
 * block totals, then the adds. `carry` (one element) is added to every element when given.
 */
export function encodeScan(ctx: GpuContext, sub: Submission, p: ScanPipelines, data: Window, n: number, exclusive: boolean, carry?: GPUBuffer): void {
  const blocks = Math.ceil(n / SCAN_BLOCK);
  const sums = sub.temp(blocks * 4);
  const sw = window(sums, 0, blocks, ctx.limits);
  sub.dispatch(p.scan, [data.resource, sw.resource], blocks, [n, data.delta, blocks, exclusive ? 1 : 0]);
  if (blocks > 1) encodeScan(ctx, sub, p, sw, blocks, false);
  if (blocks > 1 || carry) {
    const cw = carry ? window(carry, 0, 1, ctx.limits) : sw;
    sub.dispatch(p.add, [data.resource, sw.resource, cw.resource], blocks, [n, data.delta, blocks, carry ? 1 : 0]);
  }
}

export const runCumsum: Driver = async (ctx, call, range) => {
  if (range.end === range.start) return undefined;
  const p = await scanPipelines(ctx, 'f32');
  const carryPipeline = await ctx.pipelines.get('scan-carry/f32', () => scanCarryShader('f32'));
  return withSubmission(ctx, async (sub) => {
    const x = sub.input(call.args[0] as Tensor);
    const out = outputTarget(sub, call, range);
    const pieces = chunks(range.start, range.end, windowElements(ctx.limits));
    const carry = pieces.length > 1 ? sub.temp(4) : undefined;
    pieces.forEach((c, i) => {
      const n = c.end - c.start;
      sub.copy(x, c.start * 4, out.buffer, out.at(c.start) * 4, n * 4);
      const ow = window(out.buffer, out.at(c.start), n, ctx.limits);
      encodeScan(ctx, sub, p, ow, n, false, i > 0 ? carry : undefined);
      if (carry && i < pieces.length - 1) {
        sub.dispatch(carryPipeline, [ow.resource, window(carry, 0, 1, ctx.limits).resource], 1, [ow.delta + n - 1]);
      }
    });
    await finishOutput(sub, call, range, out);
    return undefined;
  });
};
