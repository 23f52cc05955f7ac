import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/index.ts';
import { heft, type HeftPlan, type HeftProblem } from '../src/planner/heft.ts';

// The example graph of Topcuoglu, Hariri & Wu (2002), Fig. 2: HEFT's makespan is 80.
const topcuoglu: HeftProblem = {
  devices: ['p1', 'p2', 'p3'],
  tasks: [
    [14, 16, 9], [13, 19, 18], [11, 13, 19], [13, 8, 17], [12, 13, 10],
    [13, 16, 9], [7, 15, 11], [5, 11, 14], [18, 12, 20], [21, 7, 16],
  ].map(([p1, p2, p3], i) => ({ id: `n${i + 1}`, cost: { p1: p1!, p2: p2!, p3: p3! } })),
  edges: [
    [1, 2, 18], [1, 3, 12], [1, 4, 9], [1, 5, 11], [1, 6, 14], [2, 8, 19], [2, 9, 16], [3, 7, 23],
    [4, 8, 27], [4, 9, 23], [5, 9, 13], [6, 8, 15], [7, 10, 17], [8, 10, 11], [9, 10, 13],
  ].map(([f, t, c]) => ({ from: `n${f}`, to: `n${t}`, cost: c! })),
};

/** Every task once, precedence with transfers respected, no overlap on a device. */
function expectValid(problem: HeftProblem, plan: HeftPlan): void {
  expect(plan.schedule.map((s) => s.task).sort()).toEqual(problem.tasks.map((t) => t.id).sort());
  const at = new Map(plan.schedule.map((s) => [s.task, s]));
  for (const s of plan.schedule) {
    const task = problem.tasks.find((t) => t.id === s.task)!;
    expect(s.finish - s.start).toBeCloseTo(task.cost[s.device]!, 9);
    expect(s.start).toBeGreaterThanOrEqual(0);
  }
  for (const e of problem.edges ?? []) {
    const from = at.get(e.from)!;
    const to = at.get(e.to)!;
    expect(to.start).toBeGreaterThanOrEqual(from.finish + (from.device === to.device ? 0 : e.cost) - 1e-9);
  }
  for (const d of problem.devices) {
    const slots = plan.schedule.filter((s) => s.device === d).sort((a, b) => a.start - b.start || a.finish - b.finish);
    for (let i = 1; i < slots.length; i++) expect(slots[i]!.start).toBeGreaterThanOrEqual(slots[i - 1]!.finish - 1e-9);
  }
  expect(plan.makespan).toBe(Math.max(0, ...plan.schedule.map((s) => s.finish)));
}

describe('heft', () => {
  it("reproduces the paper's example: upward ranks and makespan 80", () => {
    const plan = heft(topcuoglu);
    expectValid(topcuoglu, plan);
    expect(plan.makespan).toBe(80);
    const ranks = Object.values(plan.rank).map((r) => Math.round(r * 10) / 10);
    expect(ranks).toEqual([108, 77, 80, 80, 69, 63.3, 42.7, 35.7, 44.3, 14.7]);
    expect(plan.schedule.map((s) => s.task)).toEqual(['n1', 'n3', 'n4', 'n2', 'n5', 'n6', 'n9', 'n7', 'n8', 'n10']);
    expect(plan.schedule[0]).toEqual({ task: 'n1', device: 'p3', start: 0, finish: 9 });
    expect(plan.schedule.at(-1)).toMatchObject({ task: 'n10', device: 'p2', finish: 80 });
  });

  it('keeps a chain on one device when transfers outweigh a faster device', () => {
    const plan = heft({
      devices: ['cpu', 'gpu'],
      tasks: [{ id: 'a', cost: { cpu: 10, gpu: 10 } }, { id: 'b', cost: { cpu: 10, gpu: 8 } }],
      edges: [{ from: 'a', to: 'b', cost: 50 }],
    });
    expect(plan.schedule.map((s) => s.device)).toEqual(['cpu', 'cpu']);
    expect(plan.makespan).toBe(20);
  });

  it('inserts a task into an idle gap on a device', () => {
    // q (rank 90) runs on B; c (rank 55) must wait for q's output on A until 10 + 5 = 15; s
    // (rank 52.5, placed last) fits in A's idle gap before c instead of queueing after it.
    const problem: HeftProblem = {
      devices: ['A', 'B'],
      tasks: [
        { id: 'q', cost: { A: 50, B: 10 } },
        { id: 'c', cost: { A: 10, B: 100 } },
        { id: 's', cost: { A: 5, B: 100 } },
      ],
      edges: [{ from: 'q', to: 'c', cost: 5 }],
    };
    const plan = heft(problem);
    expectValid(problem, plan);
    expect(plan.schedule.map((s) => s.task)).toEqual(['q', 'c', 's']);
    const at = Object.fromEntries(plan.schedule.map((s) => [s.task, s]));
    expect(at.q).toMatchObject({ device: 'B', start: 0, finish: 10 });
    expect(at.c).toMatchObject({ device: 'A', start: 15, finish: 25 });
    expect(at.s).toMatchObject({ device: 'A', start: 0, finish: 5 });
    expect(plan.makespan).toBe(25);
  });

  it('handles empty graphs, a single device, and zero costs', () => {
    expect(heft({ devices: ['cpu'], tasks: [] })).toEqual({ makespan: 0, schedule: [], rank: {} });
    const plan = heft({ devices: ['cpu'], tasks: [{ id: 'a', cost: { cpu: 0 } }, { id: 'b', cost: { cpu: 0 } }], edges: [{ from: 'a', to: 'b', cost: 0 }] });
    expect(plan.schedule.map((s) => s.task)).toEqual(['a', 'b']);
  });

  it('rejects bad problems with errors naming the culprit', () => {
    const t = (id: string, cpu: unknown = 1) => ({ id, cost: { cpu } as Record<string, number> });
    expect(() => heft({ devices: [], tasks: [] })).toThrow(/devices: expected a non-empty array/);
    expect(() => heft({ devices: ['cpu', 'cpu'], tasks: [] })).toThrow(/devices: expected distinct/);
    expect(() => heft({ devices: ['cpu'], tasks: [t('a'), t('a')] })).toThrow(/tasks\[1\]\.id: expected an id no other task has; got "a"/);
    expect(() => heft({ devices: ['cpu', 'gpu'], tasks: [t('a')] })).toThrow(/tasks\[0\]\.cost\.gpu: expected the run time of task 'a' on device 'gpu'/);
    expect(() => heft({ devices: ['cpu'], tasks: [t('a', -1)] })).toThrow(/tasks\[0\]\.cost\.cpu: .* got -1/);
    expect(() => heft({ devices: ['cpu'], tasks: [t('a', Number.NaN)] })).toThrow(ArgumentError);
    expect(() => heft({ devices: ['cpu'], tasks: [t('a')], edges: [{ from: 'a', to: 'z', cost: 1 }] })).toThrow(/edges\[0\]\.to: expected the id of a task; got "z"/);
    expect(() => heft({ devices: ['cpu'], tasks: [t('a'), t('b')], edges: [{ from: 'a', to: 'b', cost: -2 }] })).toThrow(/edges\[0\]\.cost/);
    expect(() => heft({ devices: ['cpu'], tasks: [t('a'), t('b'), t('c')], edges: [{ from: 'a', to: 'b', cost: 1 }, { from: 'b', to: 'c', cost: 1 }, { from: 'c', to: 'b', cost: 1 }] }))
      .toThrow(/acyclic graph; these tasks are on or behind a cycle: b, c/);
  });

  it('gives valid schedules no shorter than the critical path on random graphs', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 200; trial++) {
      const devices = ['d0', 'd1', 'd2'].slice(0, 1 + Math.floor(rand() * 3));
      const n = 1 + Math.floor(rand() * 25);
      const tasks = Array.from({ length: n }, (_, i) => ({ id: `t${i}`, cost: Object.fromEntries(devices.map((d) => [d, Math.floor(rand() * 20)])) }));
      const edges = [];
      for (let j = 1; j < n; j++) for (let i = 0; i < j; i++) if (rand() < 0.15) edges.push({ from: `t${i}`, to: `t${j}`, cost: Math.floor(rand() * 15) });
      const problem = { devices, tasks, edges };
      const plan = heft(problem);
      expectValid(problem, plan);
      // Lower bound: the longest path with each task at its fastest device and free transfers.
      const fastest = tasks.map((t) => Math.min(...Object.values(t.cost)));
      const longest = new Array<number>(n).fill(0);
      for (let j = 0; j < n; j++) {
        longest[j] = fastest[j]! + Math.max(0, ...edges.filter((e) => e.to === `t${j}`).map((e) => longest[Number(e.from.slice(1))]!));
      }
      expect(plan.makespan).toBeGreaterThanOrEqual(Math.max(0, ...longest) - 1e-9);
    }
  });
});
