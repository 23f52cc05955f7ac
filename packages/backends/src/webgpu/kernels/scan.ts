/**
 * cumsum of a range (the local inclusive scan; the session's merge adds carries between ranges),
 * and the multi-level scan it shares with the radix sort.
 *
 * A range longer than one binding window is scanned piece by piece, each piece adding the last
 * value of the one before (kept on the device in a one-element carry buffer).
 */
import type { Tensor } from '@tandem/core';
import type { GpuContext } from '../context.ts';
import type { Job } from '../job.ts';
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
export function encodeScan(ctx: GpuContext, job: Job, p: ScanPipelines, data: Window, n: number, exclusive: boolean, carry?: GPUBuffer): void {
  const blocks = Math.ceil(n / SCAN_BLOCK);
  const sums = job.temp(blocks * 4);
  const sw = window(sums, 0, blocks, ctx.limits);
  job.dispatch(p.scan, [data.resource, sw.resource], blocks, [n, data.delta, blocks, exclusive ? 1 : 0]);
  if (blocks > 1) encodeScan(ctx, job, p, sw, blocks, false);
  if (blocks > 1 || carry) {
    const cw = carry ? window(carry, 0, 1, ctx.limits) : sw;
    job.dispatch(p.add, [data.resource, sw.resource, cw.resource], blocks, [n, data.delta, blocks, carry ? 1 : 0]);
  }
}

export const runCumsum: Driver = async (ctx, call, range) => {
  if (range.end === range.start) return undefined;
  const p = await scanPipelines(ctx, 'f32');
  const carryPipeline = await ctx.pipelines.get('scan-carry/f32', () => scanCarryShader('f32'));
  return ctx.withJob(async (job) => {
    const x = job.input(call.args[0] as Tensor);
    const out = outputTarget(job, call, range);
    const pieces = chunks(range.start, range.end, windowElements(ctx.limits));
    const carry = pieces.length > 1 ? job.temp(4) : undefined;
    pieces.forEach((c, i) => {
      const n = c.end - c.start;
      job.copy(x, c.start * 4, out.buffer, out.at(c.start) * 4, n * 4);
      const ow = window(out.buffer, out.at(c.start), n, ctx.limits);
      encodeScan(ctx, job, p, ow, n, false, i > 0 ? carry : undefined);
      if (carry && i < pieces.length - 1) {
        job.dispatch(carryPipeline, [ow.resource, window(carry, 0, 1, ctx.limits).resource], 1, [ow.delta + n - 1]);
      }
    });
    await finishOutput(job, call, range, out);
    return undefined;
  });
};
