/**
 * Unary, binary and saxpy kernels. The range is cut into pieces no binding window exceeds, so any
 * tensor one device buffer holds runs, however low the binding limit.
 */
import { UNARY_KERNELS, type Tensor } from '@tandem/core/backend';
import { f32, withSubmission } from '../submission.ts';
import { strideGroups } from '../wgsl/common.ts';
import { elementwiseShader, type Operand } from '../wgsl/elementwise.ts';
import { chunks, window, windowElements } from '../window.ts';
import { finishOutput, outputTarget, type Driver } from './common.ts';

const unary = new Set<string>(UNARY_KERNELS);

export const runElementwise: Driver = async (ctx, call, range) => {
  const op = call.kernel;
  const second = call.args[1];
  const operand: Operand = unary.has(op) ? 'none' : typeof second === 'number' && op !== 'saxpy' ? 'scalar' : 'tensor';
  const a = op === 'saxpy' ? (call.args[2] as number) : 0;
  const b = operand === 'scalar' ? (second as number) : 0;
  const pipeline = await ctx.pipelines.get(`${op}/${operand}`, () => elementwiseShader(op, operand));
  return withSubmission(ctx, async (sub) => {
    const x = sub.input(call.args[0] as Tensor);
    const y = operand === 'tensor' ? sub.input(second as Tensor) : undefined;
    const out = outputTarget(sub, call, range);
    for (const c of chunks(range.start, range.end, windowElements(ctx.limits))) {
      const n = c.end - c.start;
      const xw = window(x, c.start, n, ctx.limits);
      const yw = y && window(y, c.start, n, ctx.limits);
      const ow = window(out.buffer, out.at(c.start), n, ctx.limits);
      const bindings = yw ? [xw.resource, yw.resource, ow.resource] : [xw.resource, ow.resource];
      const groups = strideGroups(n);
      sub.dispatch(pipeline, bindings, groups, [n, xw.delta, yw?.delta ?? 0, ow.delta, groups, f32(a), f32(b)]);
    }
    await finishOutput(sub, call, range, out);
    return undefined;
  });
};
