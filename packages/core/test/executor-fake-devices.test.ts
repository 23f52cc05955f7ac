/**
 * The planner and executor on a machine without a GPU: splitting, HEFT placement and device loss,
 * driven through the real graph executor over FakeDevice test doubles (planner logic only; the
 * real backends are tested on real devices in @tandem/backends).
 */
import { describe, expect, it } from 'vitest';
import { CostModel } from '../src/planner/cost-model.ts';
import { Recorder } from '../src/trace/recorder.ts';
import { Tensor } from '../src/index.ts';
import type { KernelCall } from '../src/backend/index.ts';
import { runGraph } from '../src/executor/graph.ts';
import type { GraphContext } from '../src/planner/graph-plan.ts';
import { FakeDevice } from './fixtures/fake-device.ts';
import { ramp, node, relu, useFakeClock } from './fixtures/fake-graph.ts';

const SPLIT_MIN = 1 << 15;

/** A graph node for `call`; its promise settles with the node. */

function expectRelu(call: KernelCall): void {
  const x = call.args[0] as Tensor;
  let wrong = 0;
  for (let i = 0; i < x.size; i++) if (call.output.data[i] !== Math.max(0, x.data[i]!)) wrong++;
  expect(wrong).toBe(0);
}

/** Ranges a device completed, sorted; checks together they tile [0, n) exactly once. */
function expectTiled(devices: FakeDevice[], n: number): void {
  const ranges = devices.flatMap((d) => d.runs.filter((r) => r.ok).map((r) => r.range)).sort((a, b) => a.start - b.start);
  let at = 0;
  for (const r of ranges) {
    expect(r.start).toBe(at);
    at = r.end;
  }
  expect(at).toBe(n);
}

useFakeClock();

describe('executor over fake devices', () => {
  it('splits a large op across two devices in proportion to their speed, each element once', async () => {
    const cpu = new FakeDevice('cpu', { kind: 'cpu', msPerElement: 1e-4 });
    const gpu = new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 5e-5 });
    const ctx: GraphContext = { backends: [cpu, gpu], costs: new CostModel(), recorder: new Recorder(), policy: 'auto', splitMinElements: SPLIT_MIN };
    // Large enough that the split clearly pays for its chunks' fixed cost (0.5 fake ms a run).
    const n = 1 << 20;
    // Warm the models (the first run of each kernel on a device is dropped as a compile).
    for (let run = 0; run < 3; run++) {
      for (const d of [cpu, gpu]) d.runs.length = 0;
      const { node: op, done } = node(`op${run}`, relu(ramp(n, run)));
      await runGraph([op], ctx);
      await done;
      expectRelu(op.call);
    }
    const elements = (d: FakeDevice) => d.runs.filter((r) => r.ok && r.range.end - r.range.start < n).reduce((s, r) => s + r.range.end - r.range.start, 0);
    // The last run was a split (no whole-range run), tiling the range, and the 2× faster device did more of it.
    expect([...cpu.runs, ...gpu.runs].every((r) => r.range.end - r.range.start < n)).toBe(true);
    expectTiled([cpu, gpu], n);
    expect(elements(gpu)).toBeGreaterThan(1.5 * elements(cpu));
  });

  it('places independent small ops on both devices (HEFT), each run once, results right', async () => {
    const a = new FakeDevice('a', { kind: 'cpu', msPerElement: 1e-4 });
    const b = new FakeDevice('b:0', { kind: 'gpu', msPerElement: 1e-4 });
    const costs = new CostModel();
    for (const d of ['a', 'b:0']) for (let i = 0; i < 4; i++) costs.recordKernel('relu', d, 4096, 0.5 + 4096 * 1e-4);
    const ctx: GraphContext = { backends: [a, b], costs, recorder: new Recorder(), policy: 'auto', splitMinElements: SPLIT_MIN };
    const ops = Array.from({ length: 6 }, (_, i) => node(`op${i}`, relu(ramp(4096, i))));
    await runGraph(ops.map((o) => o.node), ctx);
    await Promise.all(ops.map((o) => o.done));
    for (const o of ops) expectRelu(o.node.call);
    expect(a.runs.length + b.runs.length).toBe(6);
    expect(a.runs.length).toBeGreaterThan(0);
    expect(b.runs.length).toBeGreaterThan(0);
  });

  it('re-runs a whole op on the healthy device, once, when its device is lost under it', async () => {
    const cpu = new FakeDevice('cpu', { kind: 'cpu', msPerElement: 1e-4 });
    const gpu = new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 1e-6, loseOnRun: 1 });
    const costs = new CostModel();
    for (let i = 0; i < 4; i++) {
      costs.recordKernel('relu', 'cpu', 4096, 50);
      costs.recordKernel('relu', 'gpu:0', 4096, 0.01);
    }
    const ctx: GraphContext = { backends: [cpu, gpu], costs, recorder: new Recorder(), policy: 'auto', splitMinElements: SPLIT_MIN };
    const first = node('op0', relu(ramp(4096, 1)));
    const second = node('op1', relu(ramp(4096, 2)));
    await runGraph([first.node, second.node], ctx);
    await Promise.all([first.done, second.done]);
    expectRelu(first.node.call);
    expectRelu(second.node.call);
    expect(gpu.health()).toBe('lost');
    // One failed run on the GPU; both ops then ran exactly once, whole, on the CPU.
    expect(gpu.runs).toEqual([{ kernel: 'relu', range: { start: 0, end: 4096 }, ok: false }]);
    expect(cpu.runs.filter((r) => r.ok)).toHaveLength(2);
    // A later graph plans without the lost device.
    const later = node('op2', relu(ramp(4096, 3)));
    await runGraph([later.node], ctx);
    await later.done;
    expect(cpu.runs.filter((r) => r.ok)).toHaveLength(3);
  });

  it('finishes a split op on the remaining device when the other is lost mid-split', async () => {
    const cpu = new FakeDevice('cpu', { kind: 'cpu', msPerElement: 1e-4 });
    const gpu = new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 1e-4, loseOnRun: 2 });
    const ctx: GraphContext = { backends: [cpu, gpu], costs: new CostModel(), recorder: new Recorder(), policy: 'eager', splitMinElements: SPLIT_MIN };
    const n = 1 << 17;
    const op = node('op0', relu(ramp(n, 5)));
    await runGraph([op.node], ctx);
    await op.done;
    expectRelu(op.node.call);
    expect(gpu.health()).toBe('lost');
    expect(gpu.runs.some((r) => !r.ok)).toBe(true);
    expectTiled([cpu, gpu], n);
  });

  it("learns a device's own time, not the time it first spent finishing other work", async () => {
    // Every run of the CPU waits 20 fake ms (its workers busy decoding, say) before it starts.
    const cpu = new FakeDevice('cpu', { kind: 'cpu', msPerElement: 1e-4, waitMs: 20 });
    const gpu = new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 5e-4, software: true });
    const ctx: GraphContext = { backends: [cpu, gpu], costs: new CostModel(), recorder: new Recorder(), policy: 'auto', splitMinElements: SPLIT_MIN };
    const n = 1 << 16;
    for (let run = 0; run < 6; run++) {
      const { node: op, done } = node(`op${run}`, relu(ramp(n, run)));
      await runGraph([op], ctx);
      await done;
      expectRelu(op.call);
    }
    const samples = ctx.costs.newest('relu', 'cpu', 64).filter((s) => s.n === n);
    expect(samples.length).toBeGreaterThan(0);
    expect(cpu.runs.filter((r) => r.range.end - r.range.start === n).length).toBeGreaterThan(0);
    for (const s of samples) expect(s.t).toBeCloseTo(cpu.cost('relu', n), 6);
    // Timed with their waits, the CPU's calibration slices (2,048 elements, ~82 fake ms) made it
    // look 400× slower than it is, and every run went to the 5× slower GPU.
    expect(ctx.costs.predictKernel('relu', 'cpu', n)).toBeCloseTo(cpu.cost('relu', n), 3);
  });
});
