/**
 * HEFT — Heterogeneous Earliest Finish Time (Topcuoglu, Hariri & Wu, IEEE TPDS 2002): list
 * scheduling of a task graph on unlike devices. Tasks are taken in decreasing upward rank (the
 * longest path to an exit task, with average costs); each goes to the device where it would
 * finish first, placed in the earliest idle gap long enough to hold it (insertion policy).
 */
import { ArgumentError } from '../errors.ts';

/** A graph to schedule: run time of each task per device, transfer time per edge. */
export interface HeftProblem {
  readonly devices: readonly string[];
  /** `cost[device]`: the task's run time on that device (finite, ≥ 0), for every device. */
  readonly tasks: ReadonlyArray<{ readonly id: string; readonly cost: Readonly<Record<string, number>> }>;
  /** `cost`: transfer time when `from` and `to` run on different devices; 0 on the same one. */
  readonly edges?: ReadonlyArray<{ readonly from: string; readonly to: string; readonly cost: number }>;
}

export interface HeftSlot {
  readonly task: string;
  readonly device: string;
  readonly start: number;
  readonly finish: number;
}

export interface HeftPlan {
  readonly makespan: number;
  /** One slot per task, in the order HEFT placed them (decreasing upward rank). */
  readonly schedule: readonly HeftSlot[];
  /** Upward rank of each task: its priority. */
  readonly rank: Readonly<Record<string, number>>;
}

interface Node {
  readonly id: string;
  readonly index: number;
  readonly cost: readonly number[];
  readonly mean: number;
  readonly succ: Array<{ node: number; cost: number }>;
  readonly pred: Array<{ node: number; cost: number }>;
}

/**
 * Plans a task graph with HEFT. Pure: nothing runs. Rejects cycles, unknown ids, duplicate ids,
 * and missing, negative or non-finite costs with errors naming them.
 *
 * @example
 * ```ts
 * const plan = heft({
 *   devices: ['cpu', 'gpu0', 'gpu1'],
 *   tasks: [{ id: 'a', cost: { cpu: 14, gpu0: 16, gpu1: 9 } }, { id: 'b', cost: { cpu: 13, gpu0: 19, gpu1: 18 } }],
 *   edges: [{ from: 'a', to: 'b', cost: 18 }],
 * });
 * plan.makespan; // 22: both on gpu1, so the transfer costs nothing
 * ```
 */
export function heft(problem: HeftProblem): HeftPlan {
  const { devices, nodes, order } = validate(problem);
  const rank = upwardRanks(nodes, order);
  // Decreasing rank; ties keep topological order, so a zero-cost parent still precedes its child.
  const topoIndex = new Map(order.map((n, i) => [n, i]));
  // Ranks equal in exact arithmetic can differ in the last bit (n3 and n4 of the paper's example).
  const tie = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  const byRank = [...order].sort((a, b) => (tie(rank[a]!, rank[b]!) ? topoIndex.get(a)! - topoIndex.get(b)! : rank[b]! - rank[a]!));

  const busy: Array<Array<{ start: number; finish: number }>> = devices.map(() => []);
  const placed = new Map<number, { device: number; finish: number }>();
  const schedule: HeftSlot[] = [];
  for (const n of byRank) {
    const node = nodes[n]!;
    let best: { device: number; start: number; finish: number } | undefined;
    for (let d = 0; d < devices.length; d++) {
      let ready = 0;
      for (const p of node.pred) {
        const at = placed.get(p.node)!;
        ready = Math.max(ready, at.finish + (at.device === d ? 0 : p.cost));
      }
      const start = earliestGap(busy[d]!, ready, node.cost[d]!);
      const finish = start + node.cost[d]!;
      if (!best || finish < best.finish) best = { device: d, start, finish };
    }
    const slots = busy[best!.device]!;
    const at = slots.findIndex((s) => s.start > best!.start || (s.start === best!.start && s.finish > best!.finish));
    slots.splice(at < 0 ? slots.length : at, 0, { start: best!.start, finish: best!.finish });
    placed.set(n, { device: best!.device, finish: best!.finish });
    schedule.push({ task: node.id, device: devices[best!.device]!, start: best!.start, finish: best!.finish });
  }
  const makespan = schedule.reduce((m, s) => Math.max(m, s.finish), 0);
  return { makespan, schedule, rank: Object.fromEntries(nodes.map((node) => [node.id, rank[node.index]!])) };
}

/** Earliest start ≥ `ready` of a `length`-long slot between the busy intervals (sorted by start, then finish). */
function earliestGap(slots: ReadonlyArray<{ start: number; finish: number }>, ready: number, length: number): number {
  let start = ready;
  for (const s of slots) {
    if (start + length <= s.start) return start;
    start = Math.max(start, s.finish);
  }
  return start;
}

function upwardRanks(nodes: readonly Node[], order: readonly number[]): number[] {
  const rank = new Array<number>(nodes.length).fill(0);
  for (let i = order.length - 1; i >= 0; i--) {
    const node = nodes[order[i]!]!;
    let tail = 0;
    for (const s of node.succ) tail = Math.max(tail, s.cost + rank[s.node]!);
    rank[node.index] = node.mean + tail;
  }
  return rank;
}

function validate(problem: HeftProblem): { devices: readonly string[]; nodes: Node[]; order: number[] } {
  if (typeof problem !== 'object' || problem === null) throw new ArgumentError('problem', 'an object { devices, tasks, edges }', problem);
  const { devices, tasks, edges = [] } = problem;
  if (!Array.isArray(devices) || devices.length === 0) throw new ArgumentError('devices', 'a non-empty array of device names', devices);
  if (new Set(devices).size !== devices.length) throw new ArgumentError('devices', 'distinct device names', devices);
  if (!Array.isArray(tasks)) throw new ArgumentError('tasks', 'an array of { id, cost }', tasks);
  if (!Array.isArray(edges)) throw new ArgumentError('edges', 'an array of { from, to, cost }', edges);
  const index = new Map<string, number>();
  const nodes: Node[] = tasks.map((task, i) => {
    if (typeof task?.id !== 'string') throw new ArgumentError(`tasks[${i}].id`, 'a string', task?.id);
    if (index.has(task.id)) throw new ArgumentError(`tasks[${i}].id`, 'an id no other task has', task.id);
    index.set(task.id, i);
    const cost = devices.map((d) => {
      const c = task.cost?.[d];
      if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) {
        throw new ArgumentError(`tasks[${i}].cost.${d}`, `the run time of task '${task.id}' on device '${d}' (a finite number ≥ 0)`, c);
      }
      return c;
    });
    return { id: task.id, index: i, cost, mean: cost.reduce((a, b) => a + b, 0) / cost.length, succ: [], pred: [] };
  });
  for (const [i, e] of edges.entries()) {
    const from = index.get(e?.from);
    const to = index.get(e?.to);
    if (from === undefined) throw new ArgumentError(`edges[${i}].from`, 'the id of a task', e?.from);
    if (to === undefined) throw new ArgumentError(`edges[${i}].to`, 'the id of a task', e?.to);
    if (typeof e.cost !== 'number' || !Number.isFinite(e.cost) || e.cost < 0) {
      throw new ArgumentError(`edges[${i}].cost`, 'a transfer time (a finite number ≥ 0)', e.cost);
    }
    nodes[from]!.succ.push({ node: to, cost: e.cost });
    nodes[to]!.pred.push({ node: from, cost: e.cost });
  }
  // Kahn's algorithm: a topological order, or the tasks left on a cycle.
  const indegree = nodes.map((n) => n.pred.length);
  const order: number[] = [];
  const ready = nodes.filter((n) => n.pred.length === 0).map((n) => n.index);
  while (ready.length > 0) {
    const n = ready.shift()!;
    order.push(n);
    for (const s of nodes[n]!.succ) if (--indegree[s.node]! === 0) ready.push(s.node);
  }
  if (order.length < nodes.length) {
    const stuck = nodes.filter((n) => indegree[n.index]! > 0).map((n) => n.id);
    throw new ArgumentError('edges', `an acyclic graph; these tasks are on or behind a cycle: ${stuck.join(', ')}`);
  }
  return { devices, nodes, order };
}
