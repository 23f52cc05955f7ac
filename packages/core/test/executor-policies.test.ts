/**
 * Placement policies on FakeDevice test doubles (planner logic only): `cpu` and `gpu` keep work on
 * devices of that kind, `eager` splits without a model, a device the user names pins the op, and
 * a name that is no device of the session is refused at the call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CostModel } from '../src/planner/cost-model.ts';
import { Recorder } from '../src/trace/recorder.ts';
import { ArgumentError, DeviceLostError, Tandem, Tensor } from '../src/index.ts';
import type { KernelCall } from '../src/backend/index.ts';
import { registerBackend, unregisterBackend } from '../src/backend/registry.ts';
import type { Policy } from '../src/planner/policy.ts';
import { runGraph } from '../src/executor/graph.ts';
import type { GraphContext } from '../src/planner/graph-plan.ts';
import { FakeDevice, type FakeDeviceOptions } from './fixtures/fake-device.ts';
import { ramp, node, relu, add, useFakeClock } from './fixtures/fake-graph.ts';

const SPLIT_MIN = 1 << 15;
const N = 1 << 17;
const SMALL = 4096;

function reluRight(call: KernelCall): boolean {
  const x = call.args[0] as Tensor;
  for (let i = 0; i < x.size; i++) if (call.output.data[i] !== Math.max(0, x.data[i]!)) return false;
  return true;
}

/** A CPU and a GPU the model knows as 100× faster on small relus (the large one is cold). */
function setup(policy: Policy, cpuOptions: Partial<FakeDeviceOptions> = {}) {
  const cpu = new FakeDevice('cpu', { kind: 'cpu', msPerElement: 1e-4, ...cpuOptions });
  const gpu = new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 1e-6 });
  const costs = new CostModel();
  for (let i = 0; i < 4; i++) {
    costs.recordKernel('relu', 'cpu', SMALL, cpu.cost('relu', SMALL));
    costs.recordKernel('relu', 'gpu:0', SMALL, gpu.cost('relu', SMALL));
  }
  const ctx: GraphContext = { backends: [cpu, gpu], costs, recorder: new Recorder(), policy, splitMinElements: SPLIT_MIN };
  return { cpu, gpu, ctx };
}

/** One large relu and four small ones, all independent; resolves once they settled, right. */
async function mixedGraph(ctx: GraphContext): Promise<void> {
  const ops = [node('big', relu(ramp(N, 0))), ...Array.from({ length: 4 }, (_, i) => node(`small${i}`, relu(ramp(SMALL, i + 1))))];
  await runGraph(ops.map((o) => o.node), ctx);
  await Promise.all(ops.map((o) => o.done));
  for (const o of ops) expect(reluRight(o.node.call)).toBe(true);
}

const wholeRuns = (d: FakeDevice) => d.runs.filter((r) => r.ok && r.range.start === 0 && (r.range.end === N || r.range.end === SMALL)).length;

useFakeClock();

describe('policies in the executor', () => {
  it("'auto' (the control): the GPU the model prefers gets work", async () => {
    const { gpu, ctx } = setup('auto');
    await mixedGraph(ctx);
    expect(gpu.runs.length).toBeGreaterThan(0);
  });

  it("'cpu' runs every op, large and small, on the CPU only, and measures nothing elsewhere", async () => {
    const { cpu, gpu, ctx } = setup('cpu');
    await mixedGraph(ctx);
    expect(gpu.runs).toEqual([]);
    // Five whole runs: the large op is not split (one eligible device).
    expect(wholeRuns(cpu)).toBe(5);
    expect(cpu.runs).toHaveLength(5);
    expect(ctx.recorder.spans().filter((s) => s.track === 'gpu:0')).toEqual([]);
  });

  it("'cpu' calibrates a cold kernel on the CPU only", async () => {
    const { cpu, gpu, ctx } = setup('cpu');
    const op = node('sum', add(ramp(N, 1), ramp(N, 2)));
    await runGraph([op.node], ctx);
    await op.done;
    expect(gpu.runs).toEqual([]);
    expect(new Set(ctx.recorder.spans().filter((s) => s.args.purpose === 'calibration').map((s) => s.track))).toEqual(new Set(['cpu']));
    expect(cpu.runs.filter((r) => r.range.start === 0 && r.range.end === N)).toHaveLength(1);
  });

  it("'gpu' runs every op on the GPU only", async () => {
    const { cpu, gpu, ctx } = setup('gpu');
    await mixedGraph(ctx);
    expect(cpu.runs).toEqual([]);
    expect(wholeRuns(gpu)).toBe(5);
  });

  it("'cpu' refuses an op that no CPU device runs, rather than send it elsewhere; the rest of the graph runs", async () => {
    const { cpu, gpu, ctx } = setup('cpu', { kernels: ['relu'] });
    for (const n of [SMALL, N]) {
      const sum = node('sum', add(ramp(n, 1), 1));
      const after = node('after', relu(sum.node.call.output));
      const other = node('other', relu(ramp(SMALL, 2)));
      await runGraph([sum.node, after.node, other.node], ctx);
      const error = await sum.done.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArgumentError);
      expect((error as ArgumentError).argument).toBe('policy');
      expect((error as Error).message).toMatch(/runs kernel 'add'/);
      await expect(after.done).rejects.toBe(error);
      await other.done;
      expect(reluRight(other.node.call)).toBe(true);
    }
    expect(gpu.runs).toEqual([]);
    expect(cpu.runs.every((r) => r.kernel === 'relu')).toBe(true);
  });

  for (const model of ['a cold model', 'a model that says the CPU is 100× slower']) {
    it(`'eager' splits a large op in equal chunks, calibrating nothing, with ${model}`, async () => {
      const { cpu, gpu, ctx } = setup('eager');
      const costs = model === 'a cold model' ? new CostModel() : ctx.costs;
      for (let i = 0; i < 4 && costs === ctx.costs; i++) {
        costs.recordKernel('relu', 'cpu', N, cpu.cost('relu', N));
        costs.recordKernel('relu', 'gpu:0', N, gpu.cost('relu', N));
      }
      const op = node('big', relu(ramp(N, 0)));
      await runGraph([op.node], { ...ctx, costs });
      await op.done;
      expect(reluRight(op.node.call)).toBe(true);
      expect(ctx.recorder.spans().some((s) => s.args.purpose === 'calibration')).toBe(false);
      const chunks = [...cpu.runs, ...gpu.runs].map((r) => r.range).sort((a, b) => a.start - b.start);
      // Equal chunks of 1/16 (1/(8 × devices)) of the range, tiling it, on both devices.
      expect(chunks.map((r) => r.end - r.start)).toEqual(Array(16).fill(N / 16));
      chunks.forEach((r, i) => expect(r.start).toBe((i * N) / 16));
      expect(cpu.runs.length).toBeGreaterThan(0);
      expect(gpu.runs.length).toBeGreaterThan(0);
    });
  }

  it('keeps a node on the device the user named, and rejects it with DeviceLostError when that device is lost', async () => {
    const cpu = new FakeDevice('cpu', { kind: 'cpu', msPerElement: 1e-4 });
    const gpu = new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 1e-6, loseOnRun: 1 });
    const ctx: GraphContext = { backends: [cpu, gpu], costs: new CostModel(), recorder: new Recorder(), policy: 'auto', splitMinElements: SPLIT_MIN };
    const pinned = node('pinned', relu(ramp(N, 1)), gpu);
    await runGraph([pinned.node], ctx);
    await expect(pinned.done).rejects.toBeInstanceOf(DeviceLostError);
    expect(gpu.runs).toEqual([{ kernel: 'relu', range: { start: 0, end: N }, ok: false }]);
    expect(cpu.runs).toEqual([]);
  });
});

describe('policies and named devices in a session', () => {
  const names: string[] = [];
  function fake(name: string, options: FakeDeviceOptions): () => FakeDevice {
    let made: FakeDevice | undefined;
    registerBackend({ name, create: () => (made = new FakeDevice(name, options)) });
    names.push(name);
    return () => made!;
  }
  afterEach(() => {
    for (const n of names.splice(0)) unregisterBackend(n);
  });

  it('pins ops to a device named in their options, however the model ranks it', async () => {
    const cpu = fake('pcpu', { kind: 'cpu', msPerElement: 1e-4, overlap: true });
    const gpu = fake('pgpu', { kind: 'gpu', msPerElement: 1e-6, overlap: true });
    await using td = await Tandem.create({ workers: 1, backends: ['pcpu', 'pgpu'], costCache: false });
    for (let i = 0; i < 4; i++) {
      td.costs.recordKernel('relu', 'pcpu', SMALL, 100);
      td.costs.recordKernel('relu', 'pgpu', SMALL, 0.01);
    }
    const inputs = [ramp(N, 1), ramp(SMALL, 2), ramp(SMALL, 3)];
    const outs = inputs.map((x) => td.ops.relu(x, { device: 'pcpu' }));
    await Promise.all(outs.map((o) => o.values()));
    outs.forEach((o, k) => expect([...o.data]).toEqual([...inputs[k]!.data].map((v) => Math.max(0, v))));
    // Whole, on the CPU: no calibration, no split, nothing on the GPU.
    expect(cpu().runs.map((r) => r.range)).toEqual(inputs.map((x) => ({ start: 0, end: x.size })));
    expect(gpu().runs).toEqual([]);
  });

  it('refuses, at the call, a device name that is no device of the session running the kernel', async () => {
    fake('qcpu', { kind: 'cpu', msPerElement: 1e-4, kernels: ['relu'] });
    fake('qgpu', { kind: 'gpu', msPerElement: 1e-6 });
    await using td = await Tandem.create({ workers: 1, backends: ['qcpu', 'qgpu'], costCache: false });
    const x = ramp(SMALL, 1);
    const unknown = (() => {
      try {
        td.ops.relu(x, { device: 'nosuch' });
      } catch (error) {
        return error;
      }
    })();
    expect(unknown).toBeInstanceOf(ArgumentError);
    expect((unknown as ArgumentError).argument).toBe('options.device');
    expect((unknown as Error).message).toMatch(/^options\.device: expected a healthy device of this session that runs kernel 'relu' \(qcpu, qgpu\); got .*nosuch/);
    // A device that exists but lacks the kernel: named too, with those that have it.
    expect(() => td.ops.add(x, 1, { device: 'qcpu' })).toThrow(/options\.device: .*runs kernel 'add' \(qgpu\)/);
  });

  it("under policy 'gpu', a session runs a large op on its GPU only", async () => {
    const cpu = fake('rcpu', { kind: 'cpu', msPerElement: 1e-6 });
    const gpu = fake('rgpu', { kind: 'gpu', msPerElement: 1e-4 });
    await using td = await Tandem.create({ workers: 1, backends: ['rcpu', 'rgpu'], costCache: false, policy: 'gpu' });
    const x = ramp(N, 1);
    const y = await td.ops.relu(x).values();
    expect(y[N - 1]).toBe(Math.max(0, x.data[N - 1]!));
    expect(cpu().runs).toEqual([]);
    expect(gpu().runs.filter((r) => r.range.start === 0 && r.range.end === N)).toHaveLength(1);
  });
});
