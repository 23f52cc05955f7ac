/**
 * One range of a call on the one device predicted fastest for it: how a cluster node runs the
 * slice of a kernel another machine's planner gave it (`cluster/remote-kernel.ts`). The slice
 * was already sized by that planner; the node only picks its best device and learns its time.
 */
import type { Backend } from '../backend/contract.ts';
import { BackendUnavailableError } from '../errors.ts';
import { kernelKey } from '../kernel/key.ts';
import type { IndexRange, KernelCall } from '../kernel/types.ts';
import type { CostModel } from '../planner/cost-model.ts';
import { eligibleBackends, type Policy } from '../planner/policy.ts';
import type { Recorder } from '../trace/recorder.ts';
import { ownMs, type RunStart } from '../backend/run-start.ts';
import { observedRun } from './observed-run.ts';

/** Computes `range` of `call` into `call.output` on the fastest local device; resolves to its id. */
export async function runRange(call: KernelCall, range: IndexRange, ctx: { backends: readonly Backend[]; costs: CostModel; policy: Policy; recorder?: Recorder }): Promise<string> {
  // Only this machine's devices: a slice sent to the cluster is never sent on again.
  const able = eligibleBackends(ctx.backends, call, ctx.policy).filter((b) => b.device.kind !== 'cluster');
  if (able.length === 0) throw new BackendUnavailableError(call.kernel, `no healthy device here runs kernel '${call.kernel}'`, 'start the node with a backend that has it (--backends cpu)');
  const key = kernelKey(call);
  const n = range.end - range.start;
  // Unmeasured devices first: each is measured once, then the fastest keeps the slices.
  const predicted = (b: Backend) => ctx.costs.predictKernel(key, b.device.id, n) ?? -1;
  const best = able.reduce((a, b) => (predicted(b) < predicted(a) ? b : a));
  const t0 = performance.now();
  const began: RunStart = {};
  const span = ctx.recorder?.begin(best.device.id, key, `${key}[${range.start}:${range.end})`);
  try {
    await observedRun(best, call, range, ctx.recorder, key, began);
    span?.end({ elements: n });
  } catch (error) {
    span?.end({ elements: n, error: (error as Error).message });
    throw error;
  }
  ctx.costs.recordKernel(key, best.device.id, n, ownMs(t0, performance.now(), began));
  return best.device.id;
}
