/** A whole epoch into one shared-memory set: each worker writes its blocks straight into place. */
import { Tensor } from '@tandem/core';
import type { LabelledSet } from '../datasets/index.ts';
import type { Deferred, EpochRun } from './context.ts';
import type { BlockResult } from './block-task.ts';
import type { Span } from './plan.ts';

export async function materializeEpoch(ctx: EpochRun, run: Deferred<LabelledSet>): Promise<void> {
  const { plan } = ctx;
  let out: LabelledSet | undefined;
  const allocate = (features: number): LabelledSet =>
    (out = { x: Tensor.zeros([plan.rows, features], 'float32'), y: Tensor.zeros([plan.rows], 'int32') });
  if (ctx.features.value !== undefined) allocate(ctx.features.value);
  const place = (span: Span, result: BlockResult): void => {
    if (!result.x || !result.y) return; // written in place
    ctx.features.learn(result.features);
    const set = out ?? allocate(result.features);
    set.x.data.set(result.x, span.start * result.features);
    set.y.data.set(result.y, span.start);
  };
  const views = (span: Span): { x: Float32Array; y: Int32Array } | null => {
    if (!out) return null; // width not known yet: the block comes back on its own memory
    const f = out.x.shape[1]!;
    return { x: out.x.data.subarray(span.start * f, (span.start + span.rows) * f), y: out.y.data.subarray(span.start, span.start + span.rows) };
  };
  let next = 0;
  // A few lanes, not every block at once: a failure or a close then wastes little work.
  const lane = async (): Promise<void> => {
    while (next < plan.blocks.length && !run.settled) {
      const span = plan.blocks[next++]!;
      const result = await ctx.exec(span, views(span));
      if (run.settled) return;
      place(span, result);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(ctx.concurrency, plan.blocks.length) }, lane));
    run.resolve(out ?? allocate(ctx.features.value ?? ctx.sourceFeatures));
  } catch (error) {
    run.reject(error);
  }
}
