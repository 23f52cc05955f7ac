/**
 * The session's lazy graph: ops issued in the same turn of the event loop are collected, then
 * planned together with HEFT — each node's cost per device from the learned models, plus the
 * upload of inputs that device doesn't hold yet; each edge's cost the transfer of the producer's
 * output when consumer and producer run on different devices — and executed in the plan's order
 * on each device. Large data-parallel nodes are split across the devices instead. Every run
 * feeds the models, so the next graph is planned with what this one measured.
 */
import type { Backend } from '../backend.ts';
import type { KernelCall } from '../kernel/types.ts';
import { heft } from '../planner/heft.ts';
import type { CostModel } from '../planner/cost-model.ts';
import { HOST, Tensor } from '../tensor.ts';
import { kernelKey, runCall, specFor } from './kernel-runner.ts';
import type { Recorder } from './recorder.ts';
import { eligibleBackends, runSplit, worthSplitting, type Policy } from './split.ts';

export interface GraphNode {
  readonly id: string;
  readonly call: KernelCall;
  /** A device the user named, if any. */
  readonly device: Backend | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

export interface GraphContext {
  readonly backends: readonly Backend[];
  readonly costs: CostModel;
  readonly recorder: Recorder;
  readonly policy: Policy;
  /** Nodes at least this large (elements) are split across devices. */
  readonly splitMinElements: number;
}

/** With nothing measured yet, assume this rate, so that the plan still balances devices. */
const UNKNOWN_FLOPS_PER_MS = 1e6;
/** And this host↔device bandwidth (bytes per ms) for a device whose transfers were never timed. */
const UNKNOWN_BYTES_PER_MS = 1e6;

function bytesOf(t: Tensor): number {
  return t.data.byteLength;
}

/** Predicted ms for `call` on `b`: the model, or the spec's flop count at a nominal rate. */
function predictRun(ctx: GraphContext, call: KernelCall, b: Backend): number {
  const spec = specFor(call);
  const extent = spec.extent(call);
  return ctx.costs.predictKernel(kernelKey(call), b.device.id, extent) ?? spec.cost(call, { start: 0, end: extent }).flops / UNKNOWN_FLOPS_PER_MS;
}

function predictMove(ctx: GraphContext, b: Backend, bytes: number): number {
  if (b.device.kind === 'cpu' || bytes === 0) return 0; // the CPU reads host memory in place
  return ctx.costs.predictTransfer(b.device.id, bytes) ?? bytes / UNKNOWN_BYTES_PER_MS;
}

/** Plans and runs one batch of nodes. Settles every node exactly once. */
export async function runGraph(nodes: readonly GraphNode[], ctx: GraphContext): Promise<void> {
  ctx.recorder.beginJob(nodes.map((n) => ({ key: kernelKey(n.call), elements: specFor(n.call).extent(n.call) })));
  const producer = new Map<Tensor, GraphNode>();
  for (const n of nodes) producer.set(n.call.output, n);
  const depsOf = (n: GraphNode) => n.call.args.filter((a): a is Tensor => a instanceof Tensor && producer.has(a) && producer.get(a) !== n).map((t) => producer.get(t)!);

  const splitNodes = new Set<GraphNode>();
  const placedNodes: GraphNode[] = [];
  for (const n of nodes) {
    const able = eligibleBackends(ctx.backends, n.call.kernel, ctx.policy);
    const extent = specFor(n.call).extent(n.call);
    if (!n.device && extent >= ctx.splitMinElements && worthSplitting(kernelKey(n.call), extent, able, ctx.costs, ctx.policy)) splitNodes.add(n);
    else placedNodes.push(n);
  }

  // HEFT over the nodes that run whole on one device; split nodes take every device (HEFT sees
  // them as tasks that cost the same everywhere, so their dependants are ordered after them).
  const devices = ctx.backends.filter((b) => b.health() === 'ok');
  // A GPU emulated in software beside the CPU is the same cores: there is one machine to
  // schedule, not two. Each op then goes to its predicted-fastest backend, one at a time.
  const oneMachine = ctx.policy !== 'eager' && devices.some((b) => b.device.software) && devices.some((b) => b.device.kind === 'cpu');
  const assignment = new Map<GraphNode, Backend>();
  if (devices.length > 0 && nodes.length > 0) {
    const plan = heft({
      devices: devices.map((b) => b.device.id),
      tasks: nodes.map((n) => {
        const cost: Record<string, number> = {};
        for (const b of devices) {
          if (splitNodes.has(n)) cost[b.device.id] = 0;
          else if (n.device ? n.device !== b : !eligibleBackends(ctx.backends, n.call.kernel, ctx.policy).includes(b)) cost[b.device.id] = 1e12;
          else {
            let upload = 0;
            for (const a of n.call.args) if (a instanceof Tensor && !producer.has(a) && !a.residency.isValidOn(b.device.id)) upload += predictMove(ctx, b, bytesOf(a));
            cost[b.device.id] = predictRun(ctx, n.call, b) + upload;
          }
        }
        return { id: n.id, cost };
      }),
      edges: nodes.flatMap((n) => depsOf(n).map((d) => ({
        from: d.id,
        to: n.id,
        // Moving a result between host-sharing devices costs its download from one and upload to the other.
        cost: Math.max(...devices.map((b) => predictMove(ctx, b, bytesOf(d.call.output)))),
      }))),
    });
    const byId = new Map(devices.map((b) => [b.device.id, b]));
    const nodeById = new Map(nodes.map((n) => [n.id, n]));
    for (const slot of plan.schedule) assignment.set(nodeById.get(slot.task)!, byId.get(slot.device)!);
    if (oneMachine) {
      const explored = new Set<string>();
      for (const n of placedNodes) {
        if (n.device) continue;
        const able = eligibleBackends(ctx.backends, n.call.kernel, ctx.policy);
        const key = kernelKey(n.call);
        const extent = specFor(n.call).extent(n.call);
        // A device never measured on this kernel gets one node of it per graph, or it would never be.
        const unmeasured = able.find((b) => ctx.costs.predictKernel(key, b.device.id, extent) === undefined);
        if (unmeasured && able.some((b) => b !== unmeasured && ctx.costs.predictKernel(key, b.device.id, extent) !== undefined) && !explored.has(key)) {
          explored.add(key);
          assignment.set(n, unmeasured);
          continue;
        }
        let best = able[0];
        let bestMs = Number.POSITIVE_INFINITY;
        for (const b of able) {
          let t = predictRun(ctx, n.call, b);
          for (const a of n.call.args) if (a instanceof Tensor && !a.residency.isValidOn(b.device.id)) t += predictMove(ctx, b, bytesOf(a));
          if (t < bestMs) [best, bestMs] = [b, t];
        }
        if (best) assignment.set(n, best);
      }
      // HEFT's order (decreasing upward rank) still decides which op goes first.
      placedNodes.sort((a, b) => plan.schedule.findIndex((s) => s.task === a.id) - plan.schedule.findIndex((s) => s.task === b.id));
    }
  }

  // Execute: each device runs its nodes in plan order; a node starts once its inputs are done.
  const finished = new Map<GraphNode, Promise<void>>();
  const deviceTail = new Map<Backend, Promise<void>>();
  // A split takes every device: splits run one after another, or each would time the others' work as its own.
  let splitTail: Promise<void> = Promise.resolve();
  const order = oneMachine ? placedNodes : [...placedNodes].sort((a, b) => nodes.indexOf(a) - nodes.indexOf(b));
  let machineTail: Promise<void> = Promise.resolve();
  const start = (n: GraphNode): Promise<void> => {
    const existing = finished.get(n);
    if (existing) return existing;
    const deps = depsOf(n).map(start);
    let p: Promise<void>;
    if (splitNodes.has(n)) {
      const after = splitTail;
      p = Promise.all([...deps, after]).then(async () => {
        // Inputs produced by an earlier graph may still be computing.
        for (const a of n.call.args) if (a instanceof Tensor) await a.values();
        await runSplit(n.call, eligibleBackends(ctx.backends, n.call.kernel, ctx.policy), ctx.costs, { policy: ctx.policy }, ctx.recorder);
      });
      splitTail = p.catch(() => undefined);
    } else {
      const b = n.device ?? assignment.get(n) ?? eligibleBackends(ctx.backends, n.call.kernel, 'auto')[0];
      const tail = oneMachine ? machineTail : ((b && deviceTail.get(b)) ?? Promise.resolve());
      p = Promise.all([...deps, tail.catch(() => undefined)]).then(() => runOne(ctx, n.call, b!));
      if (oneMachine) machineTail = p.catch(() => undefined);
      else if (b) deviceTail.set(b, p.catch(() => undefined));
    }
    finished.set(n, p);
    p.then(n.resolve, n.reject);
    return p;
  };
  for (const n of order) start(n);
  for (const n of splitNodes) start(n);
  await Promise.allSettled([...finished.values()]);
}

async function runOne(ctx: GraphContext, call: KernelCall, b: Backend): Promise<void> {
  if (!b) throw new Error(`no device runs kernel '${call.kernel}'`);
  const extent = specFor(call).extent(call);
  const key = kernelKey(call);
  const predicted = ctx.costs.predictKernel(key, b.device.id, extent);
  const span = ctx.recorder.begin(b.device.id, key);
  const before = b.transfers();
  const t0 = performance.now();
  try {
    await runCall(b, call);
  } catch (error) {
    span.end({ predictedMs: predicted, elements: extent, error: (error as Error).message });
    throw error;
  }
  const ms = performance.now() - t0;
  const after = b.transfers();
  const up = after.uploadBytes - before.uploadBytes;
  const down = after.downloadBytes - before.downloadBytes;
  span.end({ predictedMs: predicted, elements: extent, bytesMoved: up + down });
  ctx.costs.recordKernel(key, b.device.id, extent, ms);
  call.output.residency.addCopy(HOST);
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
