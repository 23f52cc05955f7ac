/**
 * The session's lazy graph: ops issued in the same turn of the event loop are collected, then
 * planned together ({@link GraphPlanner}: HEFT over learned costs, large data-parallel nodes split
 * across the devices) and executed: each device runs one node at a time, the most urgent one
 * whose inputs are ready. When a node's measured time is far from its prediction the plan was
 * made on a wrong premise, so the nodes not yet started are planned again, with the correction;
 * started and finished nodes keep their device — but a node whose device is lost under it runs
 * again, whole, on a healthy device (unless the user named the device). Every run feeds the
 * models, so the next graph starts from what this one measured.
 */
import type { Backend } from '../backend/contract.ts';
import { ArgumentError } from '../errors.ts';
import type { KernelCall } from '../kernel/types.ts';
import { HOST } from '../tensor/residency.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { GraphNode } from '../graph/graph.ts';
import { GraphPlanner, type GraphContext, type GraphPlan, type RunningNode } from '../planner/graph-plan.ts';
import { kernelKey, specFor } from '../kernel/key.ts';
import { ownMs, type RunStart } from '../backend/run-start.ts';
import { runCall } from './run-call.ts';
import { calibrateKernels, exploreOn } from '../planner/calibrate.ts';
import { deviation, type Replan } from '../planner/replan.ts';
import { eligibleBackends } from '../planner/policy.ts';
import { splitDevices } from '../planner/split-sizing.ts';
import { runSplit } from './split.ts';


interface Started {
  readonly device: Backend | undefined;
  readonly startedAt: number;
  readonly predictedMs: number;
}

/** What one whole-node run took, and whether the model took it as a sample (a first run, which compiles, it does not). */
interface Measured {
  readonly ms: number;
  readonly sample: boolean;
}

/** Plans and runs one batch of nodes, re-planning as it learns. Settles every node exactly once. */
export async function runGraph(nodes: readonly GraphNode[], ctx: GraphContext): Promise<void> {
  ctx.recorder.beginGraph(nodes.map((n) => ({ key: kernelKey(n.call), elements: specFor(n.call).extent(n.call) })));
  await calibrateKernels(nodes, ctx);
  const planner = new GraphPlanner(ctx, nodes);
  const pending = new Set(nodes);
  const running = new Map<GraphNode, Started>();
  const done = new Set<GraphNode>();
  const failed = new Map<GraphNode, unknown>();
  /** Lanes running a node now: a device (or, on one machine, the machine) runs one whole node at a time; splits run one at a time. */
  const busy = new Set<string>();
  /**
   * Nodes that no healthy device the policy allows can run fail now, as a split of them would:
   * planned, every place would be impossible, and HEFT would still put them — and push the nodes
   * after them — on devices that can't run them or that the policy rules out.
   */
  const refuseUnplaceable = (): void => {
    for (const n of pending) {
      if (n.device || eligibleBackends(ctx.backends, n.call, ctx.policy).length > 0) continue;
      const error = new ArgumentError('policy', `a policy with at least one healthy device that runs kernel '${n.call.kernel}'`, ctx.policy);
      pending.delete(n);
      failed.set(n, error);
      n.reject(error);
    }
  };
  refuseUnplaceable();
  let plan: GraphPlan = planner.plan(nodes.filter((n) => pending.has(n)), new Map());
  let wake: (() => void) | undefined;

  const deviceOf = (n: GraphNode): Backend | undefined => n.device ?? plan.device.get(n) ?? eligibleBackends(ctx.backends, n.call, 'auto')[0];
  const laneOf = (n: GraphNode, b: Backend | undefined): string => (planner.splitNodes.has(n) ? 'split' : planner.oneMachine ? 'machine' : b?.device.id ?? 'none');

  const replan = (after: GraphNode, b: Backend, reason: Replan['reason'], predictedMs: number, measuredMs: number): void => {
    refuseUnplaceable();
    // Only nodes the planner may move, and somewhere else to move them, are worth a new plan.
    if (![...pending].some((n) => !n.device && !planner.splitNodes.has(n))) return;
    if (reason !== 'device lost' && ctx.backends.filter((d) => d.health() === 'ok').length < 2) return;
    const before = plan;
    const now = performance.now();
    const left = new Map<GraphNode, RunningNode>();
    for (const [n, r] of running) left.set(n, { device: r.device, remainingMs: Math.max(0, r.predictedMs - (now - r.startedAt)) });
    // A node back from a lost device may have been running when `before` was made, so not be in its order.
    plan = planner.plan([...before.order.filter((n) => pending.has(n)), ...[...pending].filter((n) => !before.order.includes(n))], left);
    const moved: Array<Replan['moved'][number]> = [];
    for (const n of pending) {
      const from = before.device.get(n);
      const to = plan.device.get(n);
      if (from && to && from !== to) moved.push({ node: n.id, kernel: kernelKey(n.call), from: from.device.id, to: to.device.id });
    }
    ctx.recorder.replan({ after: { node: after.id, kernel: kernelKey(after.call), device: b.device.id }, reason, predictedMs, measuredMs, moved });
  };

  const settle = (n: GraphNode, lane: string, error: unknown, ok: boolean): void => {
    running.delete(n);
    busy.delete(lane);
    if (ok) {
      done.add(n);
      n.resolve();
    } else {
      failed.set(n, error);
      n.reject(error);
    }
    wake?.();
  };

  const launch = (n: GraphNode, b: Backend | undefined, lane: string): void => {
    pending.delete(n);
    busy.add(lane);
    const startedAt = performance.now();
    if (planner.splitNodes.has(n)) {
      running.set(n, { device: undefined, startedAt, predictedMs: 0 });
      runSplitNode(ctx, n.call).then(() => settle(n, lane, undefined, true), (error: unknown) => settle(n, lane, error, false));
      return;
    }
    const predictedMs = plan.predictedMs.get(n) ?? (b ? planner.predictRun(n.call, b) : Number.NaN);
    running.set(n, { device: b, startedAt, predictedMs });
    // A device the plan passed over on an uncertain prediction gets a slice first, before the node
    // (on one machine, alone), so that its sample is not taken under contention; on separate
    // devices only an idle one, whose lane is held meanwhile.
    const explore = b ? planner.explorationFor(n, b, (d) => planner.oneMachine || !busy.has(d.device.id)) : undefined;
    const exploreLane = explore && !planner.oneMachine ? explore.device.id : undefined;
    if (exploreLane) busy.add(exploreLane);
    const probe = explore
      ? exploreOn(explore, n.call, ctx).finally(() => {
        // The node's own run starts now: re-plans judge its time left from here.
        running.set(n, { device: b, startedAt: performance.now(), predictedMs });
        if (exploreLane) {
          busy.delete(exploreLane);
          wake?.();
        }
      })
      : Promise.resolve();
    probe.then(() => runOne(ctx, n.call, b)).then(
      (measured) => {
        settle(n, lane, undefined, true);
        const reason = measured.sample ? deviation(predictedMs, measured.ms) : undefined;
        if (reason) {
          planner.correct(n.call, b!, measured.ms);
          replan(n, b!, reason, predictedMs, measured.ms);
        }
      },
      (error: unknown) => {
        const lost = b !== undefined && b.health() !== 'ok';
        if (lost && !n.device && eligibleBackends(ctx.backends, n.call, ctx.policy).length > 0) {
          // The planner chose the device, and another can run the node: it goes back to the
          // pending nodes and the re-plan (which leaves out the lost device) places it again.
          // Its output is overwritten whole by the run that succeeds.
          running.delete(n);
          busy.delete(lane);
          pending.add(n);
          replan(n, b, 'device lost', predictedMs, performance.now() - startedAt);
          wake?.();
          return;
        }
        settle(n, lane, error, false);
        if (lost) replan(n, b, 'device lost', predictedMs, performance.now() - startedAt);
      },
    );
  };

  for (;;) {
    // Start every node that can start, most urgent first; a node whose input failed fails with it.
    for (let progress = true; progress;) {
      progress = false;
      for (const n of plan.order) {
        if (!pending.has(n)) continue;
        const deps = planner.depsOf(n);
        const broken = deps.find((d) => failed.has(d));
        if (broken) {
          pending.delete(n);
          failed.set(n, failed.get(broken));
          n.reject(failed.get(broken));
          progress = true;
          continue;
        }
        if (!deps.every((d) => done.has(d))) continue;
        const b = planner.splitNodes.has(n) ? undefined : deviceOf(n);
        const lane = laneOf(n, b);
        if (busy.has(lane)) continue;
        launch(n, b, lane);
        progress = true;
      }
    }
    if (running.size === 0) break;
    await new Promise<void>((resolve) => (wake = resolve));
  }
  // Unreachable while plans are topological orders; a node left here would otherwise never settle.
  for (const n of pending) n.reject(new Error(`internal: graph node ${n.id} could not be scheduled`));
}

async function runSplitNode(ctx: GraphContext, call: KernelCall): Promise<void> {
  // Inputs produced by an earlier graph may still be computing.
  for (const a of call.args) if (a instanceof Tensor) await a.values();
  await runSplit(call, splitDevices(eligibleBackends(ctx.backends, call, ctx.policy), ctx.policy), ctx.costs, { policy: ctx.policy }, ctx.recorder);
}

async function runOne(ctx: GraphContext, call: KernelCall, b: Backend | undefined): Promise<Measured> {
  if (!b) throw new Error(`no device runs kernel '${call.kernel}'`);
  const extent = specFor(call).extent(call);
  const key = kernelKey(call);
  const predicted = ctx.costs.predictKernel(key, b.device.id, extent);
  const span = ctx.recorder.begin(b.device.id, key);
  const before = b.transfers();
  const t0 = performance.now();
  const began: RunStart = {};
  try {
    await runCall(b, call, 1, ctx.recorder, began);
  } catch (error) {
    span.end({ predictedMs: predicted, elements: extent, error: (error as Error).message });
    throw error;
  }
  const ms = ownMs(t0, performance.now(), began);
  const after = b.transfers();
  const up = after.uploadBytes - before.uploadBytes;
  const down = after.downloadBytes - before.downloadBytes;
  span.end({ predictedMs: predicted, elements: extent, bytesMoved: up + down });
  const sample = ctx.costs.recordKernel(key, b.device.id, extent, ms);
  call.output.residency.addCopy(HOST);
  return { ms, sample };
}
