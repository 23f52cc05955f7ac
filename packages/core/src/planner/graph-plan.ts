/**
 * Where each node of a lazy graph runs, and in what order: HEFT over the nodes not yet started,
 * each node's cost per device from the learned models (corrected by what this graph has measured
 * so far), plus the upload of inputs that device doesn't hold; each edge's cost the transfer of
 * the producer's output when consumer and producer run on different devices. Nodes already
 * running are in the problem too, pinned to their device for the time they have left, so that a
 * re-plan sees which devices are busy. Large data-parallel nodes are split across every device
 * instead: HEFT sees them as tasks that cost nothing anywhere, so their dependants come after them.
 */
import type { Backend } from '../backend/contract.ts';
import { GraphEdges, type GraphNode } from '../graph/graph.ts';
import type { KernelCall } from '../kernel/types.ts';
import { heft } from './heft.ts';
import { CONFIDENT_SAMPLES, CONTRADICTION_FACTOR, staleAfter, type Confidence, type CostModel } from './cost-model.ts';
import { Tensor } from '../tensor/tensor.ts';
import { kernelKey, specFor } from '../kernel/key.ts';
import type { Recorder } from '../trace/recorder.ts';
import { eligibleBackends, type Policy } from './policy.ts';
import { worthSplitting } from './split-sizing.ts';

export interface GraphContext {
  readonly backends: readonly Backend[];
  readonly costs: CostModel;
  readonly recorder: Recorder;
  readonly policy: Policy;
  /** Nodes at least this large (elements) are split across devices. */
  readonly splitMinElements: number;
}

/** A started node the plan must work around: the device it holds and until about when. */
export interface RunningNode {
  readonly device: Backend | undefined;
  /** Predicted ms it still needs (0 when overdue). */
  readonly remainingMs: number;
}

/** One plan of the nodes not yet started. */
export interface GraphPlan {
  /** The device of each whole (not split) node in the plan. */
  readonly device: ReadonlyMap<GraphNode, Backend>;
  /** The planned nodes, split ones included, most urgent first (HEFT's upward rank: a topological order). */
  readonly order: readonly GraphNode[];
  /** Predicted run time of each whole node on its device, as this plan saw it (ms). */
  readonly predictedMs: ReadonlyMap<GraphNode, number>;
}

/** With nothing measured yet, assume this rate, so that the plan still balances devices. */
const UNKNOWN_FLOPS_PER_MS = 1e6;
/** And this host↔device bandwidth (bytes per ms) for a device whose transfers were never timed. */
const UNKNOWN_BYTES_PER_MS = 1e6;
/**
 * Exploration slices per device and kernel in one graph: enough for a model to reach
 * {@link CONFIDENT_SAMPLES} near samples (plus the first run of a process, which it drops).
 */
const MAX_PROBES = CONFIDENT_SAMPLES + 1;
/** The cost of running a node where it can't run: HEFT needs a finite number. */
const IMPOSSIBLE = 1e12;

export function bytesOf(t: Tensor): number {
  return t.data.byteLength;
}

/** Plans one graph, then re-plans what is left of it whenever asked. */
export class GraphPlanner {
  /** Nodes split across every device rather than placed on one. */
  readonly splitNodes = new Set<GraphNode>();
  /**
   * A GPU emulated in software beside the CPU is the same cores: there is one machine to
   * schedule, not two. Each op then goes to its predicted-fastest backend, one at a time.
   */
  readonly oneMachine: boolean;
  private readonly edges: GraphEdges;
  /** Kernels already given to a device never measured on them (once per graph is enough). */
  private readonly explored = new Set<string>();
  /** Per `kernel@device`: measured ÷ predicted, where this graph found the model wrong. */
  private readonly correction = new Map<string, number>();
  /** Per `kernel@device`: exploration slices this graph has run there. */
  private readonly probes = new Map<string, number>();

  constructor(private readonly ctx: GraphContext, readonly nodes: readonly GraphNode[]) {
    this.edges = new GraphEdges(nodes);
    for (const n of nodes) {
      const able = eligibleBackends(ctx.backends, n.call, ctx.policy);
      const extent = specFor(n.call).extent(n.call);
      if (!n.device && extent >= ctx.splitMinElements && worthSplitting(kernelKey(n.call), extent, able, ctx.costs, ctx.policy)) this.splitNodes.add(n);
    }
    const devices = this.devices();
    this.oneMachine = ctx.policy !== 'eager' && devices.some((b) => b.device.software) && devices.some((b) => b.device.kind === 'cpu');
  }

  /** The nodes of this graph whose outputs `n` reads. */
  depsOf(n: GraphNode): GraphNode[] {
    return this.edges.depsOf(n);
  }

  /** Predicted ms for `call` on `b`: the model (times this graph's correction), or the spec's flop count at a nominal rate. */
  predictRun(call: KernelCall, b: Backend): number {
    const spec = specFor(call);
    const extent = spec.extent(call);
    const key = kernelKey(call);
    const model = this.ctx.costs.predictKernel(key, b.device.id, extent) ?? spec.cost(call, { start: 0, end: extent }).flops / UNKNOWN_FLOPS_PER_MS;
    return model * (this.correction.get(`${key}@${b.device.id}`) ?? 1);
  }

  /**
   * Takes in a measurement that the plan got wrong: later predictions of this kernel on this
   * device in this graph are scaled toward what was measured. (The model has the sample too, but
   * a model with much history moves slowly; this graph can't wait.) Corrections of one kernel on
   * one device are averaged geometrically, so one hiccup of a busy machine moves them only halfway.
   */
  correct(call: KernelCall, b: Backend, measuredMs: number): void {
    const key = `${kernelKey(call)}@${b.device.id}`;
    const old = this.correction.get(key);
    this.correction.delete(key);
    const ratio = Math.min(1e9, Math.max(1e-9, measuredMs / Math.max(this.predictRun(call, b), 1e-9)));
    this.correction.set(key, old === undefined ? ratio : Math.sqrt(old * ratio));
  }

  /** Plans `pending` (nodes not started) around `running` (started, not finished). */
  plan(pending: readonly GraphNode[], running: ReadonlyMap<GraphNode, RunningNode>): GraphPlan {
    const devices = this.devices();
    const device = new Map<GraphNode, Backend>();
    const predictedMs = new Map<GraphNode, number>();
    const inPlan = new Set([...pending, ...running.keys()]);
    if (devices.length === 0 || pending.length === 0) return { device, order: [...pending], predictedMs };
    const byId = new Map(devices.map((b) => [b.device.id, b]));
    const tasks = [...inPlan].map((n) => {
      const cost: Record<string, number> = {};
      const run = running.get(n);
      for (const b of devices) {
        if (this.splitNodes.has(n)) cost[b.device.id] = 0;
        else if (run) cost[b.device.id] = run.device === b ? run.remainingMs : IMPOSSIBLE;
        else if (n.device ? n.device !== b : !this.able(n).includes(b)) cost[b.device.id] = IMPOSSIBLE;
        else cost[b.device.id] = this.predictRun(n.call, b) + this.uploadMs(n, b, inPlan);
      }
      return { id: n.id, cost };
    });
    const edges = [...inPlan].flatMap((n) => this.depsOf(n).filter((d) => inPlan.has(d)).map((d) => ({
      from: d.id,
      to: n.id,
      // Moving a result between host-sharing devices costs its download from one and upload to the other.
      cost: Math.max(...devices.map((b) => this.moveMs(b, bytesOf(d.call.output)))),
    })));
    const plan = heft({ devices: devices.map((b) => b.device.id), tasks, edges });
    const nodeById = new Map([...inPlan].map((n) => [n.id, n]));
    const order: GraphNode[] = [];
    for (const slot of plan.schedule) {
      const n = nodeById.get(slot.task)!;
      if (running.has(n)) continue;
      order.push(n);
      if (!this.splitNodes.has(n)) device.set(n, n.device ?? byId.get(slot.device)!);
    }
    if (this.oneMachine) {
      for (const n of order) {
        const b = n.device || this.splitNodes.has(n) ? undefined : this.fastest(n);
        if (b) device.set(n, b);
      }
    }
    for (const [n, b] of device) predictedMs.set(n, this.predictRun(n.call, b));
    return { device, order, predictedMs };
  }

  /** One machine: the node's predicted-fastest backend, but a device never measured on its kernel gets one node of it per graph, or it never would. */
  private fastest(n: GraphNode): Backend | undefined {
    const able = this.able(n);
    const key = kernelKey(n.call);
    const extent = specFor(n.call).extent(n.call);
    const measured = (b: Backend) => this.ctx.costs.predictKernel(key, b.device.id, extent) !== undefined;
    const unmeasured = able.find((b) => !measured(b));
    if (unmeasured && able.some((b) => b !== unmeasured && measured(b)) && !this.explored.has(key)) {
      this.explored.add(key);
      return unmeasured;
    }
    let best = able[0];
    let bestMs = Number.POSITIVE_INFINITY;
    for (const b of able) {
      let t = this.predictRun(n.call, b);
      for (const a of n.call.args) if (a instanceof Tensor && !a.residency.isValidOn(b.device.id)) t += this.moveMs(b, bytesOf(a));
      if (t < bestMs) [best, bestMs] = [b, t];
    }
    return best;
  }

  /**
   * A device to measure on a slice of `n` before `n` runs on `b`, or undefined: another device that
   * could run it but whose prediction for its size is uncertain (too few samples near it, old, or
   * contradicted by the other devices: {@link CostModel.confidence}). Without this, a device whose
   * model once said "slow" — one sample timed while the machine was busy, a run that paid for a
   * compile — would never run the kernel again and its model would never be corrected; with it, a
   * bad sample is outvoted within a few runs. At most {@link MAX_PROBES} per device and kernel per
   * graph, so a device that really is slow costs a bounded share of a graph. Only devices `idle`
   * accepts are considered: a sample taken beside another run would measure the contention.
   */
  explorationFor(n: GraphNode, b: Backend, idle: (d: Backend) => boolean = () => true): Backend | undefined {
    if (this.ctx.policy === 'eager' || n.device || this.splitNodes.has(n)) return undefined;
    const extent = specFor(n.call).extent(n.call);
    if (extent < this.ctx.splitMinElements) return undefined;
    const key = kernelKey(n.call);
    for (const other of this.able(n)) {
      if (other === b || !idle(other)) continue;
      const probeKey = `${key}@${other.device.id}`;
      const done = this.probes.get(probeKey) ?? 0;
      if (done >= MAX_PROBES) continue;
      const c = this.ctx.costs.confidence(key, other.device.id, extent);
      if (!c.uncertain || this.farBehind(c, n.call, other, b)) continue;
      this.probes.set(probeKey, done + 1);
      return other;
    }
    return undefined;
  }

  /**
   * Whether `other`, doubted only because the other devices' times moved ({@link Confidence.contradicted})
   * or its own did ({@link Confidence.shifted}), is still predicted over {@link CONTRADICTION_FACTOR}×
   * slower than `chosen`: a change of that size could not make it the faster, so probing it would
   * only spend time. On 2 cores a software GPU 3× slower than the workers was probed 2–4 times a
   * batch, each probe taking the cores from the batch, because the workers' times swung 2× with
   * the reader's load. A device with too few samples, or stale ones, is still probed.
   */
  private farBehind(c: Confidence, call: KernelCall, other: Backend, chosen: Backend): boolean {
    if (c.samples < CONFIDENT_SAMPLES || c.age > staleAfter(c.samples)) return false;
    return this.predictRun(call, other) > CONTRADICTION_FACTOR * this.predictRun(call, chosen);
  }

  /** Uploads `n` needs on `b`: inputs not produced inside the plan that `b` holds no valid copy of. */
  private uploadMs(n: GraphNode, b: Backend, inPlan: ReadonlySet<GraphNode>): number {
    let ms = 0;
    for (const a of n.call.args) {
      if (!(a instanceof Tensor)) continue;
      const p = this.edges.producerOf(a);
      if (p && inPlan.has(p)) continue; // an edge's cost, not an upload
      if (!a.residency.isValidOn(b.device.id)) ms += this.moveMs(b, bytesOf(a));
    }
    return ms;
  }

  private moveMs(b: Backend, bytes: number): number {
    if (b.device.kind === 'cpu' || bytes === 0) return 0; // the CPU reads host memory in place
    return this.ctx.costs.predictTransfer(b.device.id, bytes) ?? bytes / UNKNOWN_BYTES_PER_MS;
  }

  private able(n: GraphNode): Backend[] {
    return eligibleBackends(this.ctx.backends, n.call, this.ctx.policy);
  }

  private devices(): Backend[] {
    return this.ctx.backends.filter((b) => b.health() === 'ok');
  }
}
