/**
 * fp32 matmul over whole rows of C. Rows are processed in pieces whose rows of A and C fit a
 * binding window (and whose tiles fit one dispatch grid); B is bound whole in every piece, so a B
 * larger than the binding limit is refused.
 */
import { ArgumentError, HOST, type Tensor } from '@tandem/core/backend';
import { MATMUL_TILE, matmulSimpleShader, matmulTiledShader } from '../wgsl/matmul.ts';
import { strideGroups } from '../wgsl/common.ts';
import { chunks, window, windowElements } from '../window.ts';
import { assertFitsBinding, finishOutput, outputTarget, type Driver } from './common.ts';
import { withSubmission } from '../submission.ts';

/** Below these sizes a 64×64 tile computes mostly padding; one thread per output does better. */
const TILED_MIN = { rows: 32, cols: 32, inner: 8 };

export const runMatmul: Driver = async (ctx, call, range) => {
  const a = call.args[0] as Tensor;
  const b = call.args[1] as Tensor;
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  if (range.end === range.start) return undefined;
  const r0 = range.start / n;
  const r1 = range.end / n;
  assertFitsBinding(ctx, b.data.byteLength, 'args[1]', 'a right-hand matrix');
  const win = windowElements(ctx.limits);
  if (k > win) throw new ArgumentError('args[0].shape', `rows of at most ${win} elements (a row of A must fit one binding of this WebGPU device)`, `[${m}, ${k}]`);
  if (n > win) throw new ArgumentError('args[1].shape', `at most ${win} columns (a row of C must fit one binding of this WebGPU device)`, `[${k}, ${n}]`);
  if (k === 0) {
    // An empty inner dimension: every dot product is the empty sum.
    call.output.data.fill(0, range.start, range.end);
    call.output.residency.wroteOn(HOST);
    return undefined;
  }
  // The tiled grid has one workgroup per 64 columns along x, which must fit one dispatch dimension.
  const tiled = r1 - r0 >= TILED_MIN.rows && n >= TILED_MIN.cols && k >= TILED_MIN.inner && Math.ceil(n / MATMUL_TILE) <= ctx.limits.maxWorkgroupsPerDimension;
  const pipeline = tiled
    ? await ctx.pipelines.get('matmul/tiled', matmulTiledShader)
    : await ctx.pipelines.get('matmul/simple', matmulSimpleShader);
  const maxRows = Math.min(Math.floor(win / k), Math.floor(win / n), ctx.limits.maxWorkgroupsPerDimension * MATMUL_TILE);
  return withSubmission(ctx, async (sub) => {
    const ab = sub.input(a);
    const bb = sub.input(b);
    const out = outputTarget(sub, call, range);
    const bw = window(bb, 0, k * n, ctx.limits);
    for (const c of chunks(r0, r1, maxRows)) {
      const rows = c.end - c.start;
      const aw = window(ab, c.start * k, rows * k, ctx.limits);
      const cw = window(out.buffer, out.at(c.start * n), rows * n, ctx.limits);
      const stride = strideGroups(rows * n);
      const groups: number | [number, number] = tiled ? [Math.ceil(n / MATMUL_TILE), Math.ceil(rows / MATMUL_TILE)] : stride;
      sub.dispatch(pipeline, [aw.resource, bw.resource, cw.resource], groups, [rows, n, k, aw.delta, bw.delta, cw.delta, stride]);
    }
    await finishOutput(sub, call, range, out);
    return undefined;
  });
};
