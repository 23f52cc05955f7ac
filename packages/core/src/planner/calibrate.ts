/**
 * Calibration on first use: before a large node is planned, every device that could run it but
 * has no model for its kernel runs a few small slices of it, so the plan — and on one machine, the
 * choice of the one device — rests on measurements instead of a guess. Without this, the first
 * graphs would have to explore by running whole nodes on each unmeasured device in turn.
 *
 * Each device runs three passes over four slices spread evenly across the range, since work per
 * element is rarely uniform (the rows of a Mandelbrot image differ a hundredfold) and a sample
 * from one end would mislead. A device with several lanes (the CPU's workers) gets one slice per
 * lane instead, all at once, as it runs a node's range: one after another, each slice too small to
 * be spread over its workers, they would time a single worker. The first pass (1/32 of the range)
 * compiles and warms up (every worker, on the CPU): the model drops a first run. The next two
 * cover 1/32 and 1/16, two sizes, so the fit can tell the cost per element from the fixed cost of
 * a call, which dominates small slices. The slices compute real elements of the output, which the
 * node's own run then writes again.
 */
import type { Backend } from '../backend/contract.ts';
import { noteStart, ownMs, type RunStart } from '../backend/run-start.ts';
import type { KernelCall } from '../kernel/types.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { CostModel } from './cost-model.ts';
import type { GraphNode } from '../graph/graph.ts';
import { bytesOf, type GraphContext, type GraphPlanner } from './graph-plan.ts';
import { kernelKey, specFor } from '../kernel/key.ts';
import { eligibleBackends } from './policy.ts';

/** Fraction of the range each pass covers. */
const PASSES = [1 / 32, 1 / 32, 1 / 16] as const;
const SLICES = 4;

/** Calibrates the kernels of `nodes` that need it; a device that fails a slice is left to its health check. */
export async function calibrateKernels(nodes: readonly GraphNode[], ctx: GraphContext): Promise<void> {
  if (ctx.policy === 'eager') return;
  const produced = new Set(nodes.map((n) => n.call.output));
  const done = new Set<string>();
  for (const n of nodes) {
    const spec = specFor(n.call);
    const extent = spec.extent(n.call);
    const key = kernelKey(n.call);
    // Inputs computed inside this graph don't exist yet; a pinned node needs no choice.
    if (n.device || extent < ctx.splitMinElements || done.has(key)) continue;
    if (n.call.args.some((a) => a instanceof Tensor && produced.has(a))) continue;
    done.add(key);
    const unmeasured = eligibleBackends(ctx.backends, n.call, ctx.policy).filter((b) => ctx.costs.predictKernel(key, b.device.id, extent) === undefined);
    if (unmeasured.length === 0) continue;
    for (const a of n.call.args) if (a instanceof Tensor) await a.values();
    const align = spec.align?.(n.call) ?? 1;
    const units = Math.ceil(extent / align);
    for (const b of unmeasured) await calibrateOn(b, n, key, units, align, extent, ctx);
  }
}

/** Fraction of a node's range an exploration slice covers: within the model's near window of the node's size. */
const PROBE_FRACTION = 1 / 8;

/**
 * Re-explores `b` for `call`: times it on ⅛ of the range (four slices spread over it, as in
 * calibration) and feeds the model, without using the result — the node's own run, on the device
 * the plan chose, writes every element. Called when `b`'s prediction is uncertain
 * (see {@link GraphPlanner.explorationFor}); a failure is left to the device's health check.
 */
export async function exploreOn(b: Backend, call: KernelCall, ctx: GraphContext): Promise<void> {
  const spec = specFor(call);
  const extent = spec.extent(call);
  const align = spec.align?.(call) ?? 1;
  for (const a of call.args) if (a instanceof Tensor) await a.values();
  const ranges = sampleRanges(Math.ceil(extent / align), align, extent, PROBE_FRACTION, slicesOn(b));
  await timeSlices(b, call, kernelKey(call), ranges, 'exploration', ctx);
}

/**
 * Runs `call` over `ranges` on `b` as one timed sample of the kernel's model, shown in the trace
 * as `<key> (<purpose>)`. Resolves false when the device failed (the span records why).
 */
async function timeSlices(b: Backend, call: KernelCall, key: string, ranges: ReadonlyArray<{ start: number; end: number }>,
  purpose: 'calibration' | 'exploration', ctx: GraphContext): Promise<boolean> {
  const elements = ranges.reduce((s, r) => s + r.end - r.start, 0);
  const span = ctx.recorder.begin(b.device.id, key, `${key} (${purpose})`);
  const t0 = performance.now();
  let ms = 0;
  try {
    if (b.device.lanes > 1) {
      // All at once, as the device spreads a node's range over its lanes. One after another, each
      // slice too small for the backend to spread, they timed one worker of the CPU's sixteen on an
      // H200 machine: the fit put a 272,727-row batch of a user kernel at 10–30 ms against 2.5–3.5 ms
      // run whole, so every batch went to the GPU (4–8 ms), and the CPU's exploration slices, timed
      // the same way, kept it there. Every slice settles before the sample does.
      const began: RunStart = {};
      const settled = await Promise.allSettled(ranges.map((range) => b.run(call, range, { observe: noteStart(began) })));
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      ms = ownMs(t0, performance.now(), began);
    } else {
      for (const range of ranges) {
        const began: RunStart = {};
        const at = performance.now();
        await b.run(call, range, { observe: noteStart(began) });
        ms += ownMs(at, performance.now(), began);
      }
    }
  } catch (error) {
    span.end({ elements, purpose, error: (error as Error).message });
    return false;
  }
  span.end({ elements, purpose, calibration: true });
  ctx.costs.recordKernel(key, b.device.id, elements, ms);
  return true;
}

/** Slices of one sample on `b`: four, or one per lane of a device that runs several at once. */
function slicesOn(b: Backend): number {
  return Math.max(SLICES, b.device.lanes);
}

/** `slices` ranges covering `fraction` of the range together, each centred in its share of the range. */
function sampleRanges(units: number, align: number, extent: number, fraction: number, slices: number): Array<{ start: number; end: number }> {
  const size = Math.max(1, Math.round((units * fraction) / slices));
  const ranges: Array<{ start: number; end: number }> = [];
  for (let k = 0; k < slices; k++) {
    const start = Math.min(units - size, Math.max(0, Math.round(((2 * k + 1) * units) / (2 * slices) - size / 2)));
    const range = { start: start * align, end: Math.min(extent, (start + size) * align) };
    if (!ranges.some((r) => r.start === range.start)) ranges.push(range);
  }
  return ranges;
}

async function calibrateOn(b: Backend, n: GraphNode, key: string, units: number, align: number, extent: number, ctx: GraphContext): Promise<void> {
  for (const fraction of PASSES) {
    if (!(await timeSlices(b, n.call, key, sampleRanges(units, align, extent, fraction, slicesOn(b)), 'calibration', ctx))) return;
  }
}

/** Times real uploads of 1 and 8 MiB to each GPU device that has no transfer model yet. */
export async function calibrateTransfers(backends: readonly Backend[], costs: CostModel): Promise<void> {
  for (const b of backends) {
    if (b.device.kind !== 'gpu' || b.health() !== 'ok' || costs.predictTransfer(b.device.id, 1) !== undefined) continue;
    for (const mib of [1, 8, 1, 8]) {
      const t = Tensor.zeros([mib * 262_144]);
      const t0 = performance.now();
      await b.upload(t);
      costs.recordTransfer(b.device.id, bytesOf(t), performance.now() - t0);
    }
  }
}
