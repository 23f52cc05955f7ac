/**
 * Calibration on first use, on FakeDevice test doubles (planner logic only): a cold model gets
 * three timed passes of slices on each eligible device before a large node is planned, once per
 * kernel and size; uploads are timed once per GPU. Nothing real is timed: `performance.now` reads
 * the fake clock the devices advance.
 */
import { describe, expect, it } from 'vitest';
import { CostModel } from '../src/planner/cost-model.ts';
import { calibrateKernels, calibrateTransfers } from '../src/planner/calibrate.ts';
import { Recorder } from '../src/trace/recorder.ts';
import { Tensor } from '../src/index.ts';
import type { KernelCall } from '../src/backend/index.ts';
import { runGraph } from '../src/executor/graph.ts';
import type { GraphContext } from '../src/planner/graph-plan.ts';
import { FakeDevice } from './fixtures/fake-device.ts';
import { ramp, node, relu, add, useFakeClock } from './fixtures/fake-graph.ts';

const SPLIT_MIN = 1 << 15;
const N = 1 << 17;

function expectRelu(call: KernelCall): void {
  const x = call.args[0] as Tensor;
  let wrong = 0;
  for (let i = 0; i < x.size; i++) if (call.output.data[i] !== Math.max(0, x.data[i]!)) wrong++;
  expect(wrong).toBe(0);
}

/** The devices of most tests: a CPU, a 3.3× faster GPU, a second CPU-kind backend (not eligible: the first of each kind is) and a GPU without relu. */
function devices() {
  return {
    addOnly: new FakeDevice('addonly:0', { kind: 'gpu', msPerElement: 1e-6, kernels: ['add'] }),
    cpu: new FakeDevice('cpu', { kind: 'cpu', msPerElement: 1e-4 }),
    cpu2: new FakeDevice('cpu2', { kind: 'cpu', msPerElement: 1e-5 }),
    gpu: new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 3e-5 }),
  };
}

function context(backends: FakeDevice[], costs = new CostModel()): GraphContext {
  return { backends, costs, recorder: new Recorder(), policy: 'auto', splitMinElements: SPLIT_MIN };
}

const calibrationSpans = (ctx: GraphContext, graph?: number) =>
  ctx.recorder.spans().filter((s) => s.args.purpose === 'calibration' && (graph === undefined || s.graph === graph));

useFakeClock();

describe('calibrateKernels', () => {
  it('times three passes of four slices on each eligible device of a cold model, and only those', async () => {
    const { addOnly, cpu, cpu2, gpu } = devices();
    const ctx = context([addOnly, cpu, cpu2, gpu]);
    const op = node('op0', relu(ramp(N, 1)));
    await calibrateKernels([op.node], ctx);

    // Three timed passes each on the CPU and the GPU (1/32, 1/32, 1/16 of the range); none on a
    // backend without the kernel, nor on a second backend of a kind already calibrated.
    const spans = calibrationSpans(ctx);
    expect(spans.filter((s) => s.track === 'cpu').map((s) => s.args.elements)).toEqual([N / 32, N / 32, N / 16]);
    expect(spans.filter((s) => s.track === 'gpu:0').map((s) => s.args.elements)).toEqual([N / 32, N / 32, N / 16]);
    expect(spans.every((s) => s.kernel === 'relu' && s.name === 'relu (calibration)')).toBe(true);
    expect(spans).toHaveLength(6);
    expect(addOnly.runs).toHaveLength(0);
    expect(cpu2.runs).toHaveLength(0);
    // Four slices a pass, spread over the range (one in each quarter).
    expect(cpu.runs).toHaveLength(12);
    for (let pass = 0; pass < 3; pass++) {
      const quarters = cpu.runs.slice(4 * pass, 4 * pass + 4).map((r) => Math.floor(r.range.start / (N / 4)));
      expect(quarters).toEqual([0, 1, 2, 3]);
    }
    // Each span lasted exactly what its four slices cost on the fake clock.
    const slices = (d: FakeDevice, f: number) => 4 * d.cost('relu', (N * f) / 4);
    const durations = spans.filter((s) => s.track === 'gpu:0').map((s) => s.duration);
    [slices(gpu, 1 / 32), slices(gpu, 1 / 32), slices(gpu, 1 / 16)].forEach((ms, i) => expect(durations[i]).toBeCloseTo(ms, 9));

    // The model kept the two passes after the warm-up, and ranks the devices as their speeds do.
    expect(ctx.costs.samples('relu', 'cpu')).toBe(2);
    expect(ctx.costs.samples('relu', 'gpu:0')).toBe(2);
    expect(ctx.costs.samples('relu', 'cpu2')).toBe(0);
    const onCpu = ctx.costs.predictKernel('relu', 'cpu', N)!;
    const onGpu = ctx.costs.predictKernel('relu', 'gpu:0', N)!;
    expect(onGpu).toBeLessThan(onCpu);
    // Within 2× of what a whole run costs (the fit sees four calls' fixed cost in each sample).
    expect(onCpu / cpu.cost('relu', N)).toBeGreaterThan(0.5);
    expect(onCpu / cpu.cost('relu', N)).toBeLessThan(2);
    expect(onGpu / gpu.cost('relu', N)).toBeGreaterThan(0.5);
    expect(onGpu / gpu.cost('relu', N)).toBeLessThan(2);
  });

  it('gives a device with several lanes one slice per lane, all at once, and a one-lane device its four one after another', async () => {
    const cpu = new FakeDevice('cpu', { kind: 'cpu', msPerElement: 1e-4, lanes: 8 });
    const gpu = new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 3e-5 });
    const ctx = context([cpu, gpu]);
    await calibrateKernels([node('op0', relu(ramp(N, 1))).node], ctx);
    // The same three samples (1/32, 1/32, 1/16 of the range) on each.
    expect(calibrationSpans(ctx).filter((s) => s.track === 'cpu').map((s) => s.args.elements)).toEqual([N / 32, N / 32, N / 16]);
    expect(calibrationSpans(ctx).filter((s) => s.track === 'gpu:0').map((s) => s.args.elements)).toEqual([N / 32, N / 32, N / 16]);
    // Eight slices a pass on the CPU, one in each eighth of the range, started together.
    expect(cpu.runs).toHaveLength(24);
    for (let pass = 0; pass < 3; pass++) {
      expect(cpu.runs.slice(8 * pass, 8 * pass + 8).map((r) => Math.floor(r.range.start / (N / 8)))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    }
    expect(cpu.maxInFlight).toBe(8);
    expect(gpu.runs).toHaveLength(12);
    expect(gpu.maxInFlight).toBe(1);
  });

  it('skips small nodes, pinned nodes, inputs computed in the same graph, and kernels already measured', async () => {
    const { cpu, gpu } = devices();
    const ctx = context([cpu, gpu]);
    const small = node('small', relu(ramp(SPLIT_MIN - 1, 1)));
    const pinned = node('pinned', add(ramp(N, 2), 1), gpu);
    const first = node('first', relu(ramp(N, 3)));
    // Reads first's output, which does not exist yet: it can't be sliced now.
    const second = node('second', add(first.node.call.output, 1));
    await calibrateKernels([small.node, pinned.node, second.node, first.node], ctx);
    // Only `first`'s relu was calibrated, on both devices.
    expect(new Set(calibrationSpans(ctx).map((s) => `${s.kernel}@${s.track}`))).toEqual(new Set(['relu@cpu', 'relu@gpu:0']));
    expect([...cpu.runs, ...gpu.runs].every((r) => r.kernel === 'relu' && r.range.end - r.range.start <= N / 64)).toBe(true);

    // Measured now: a second call calibrates nothing.
    const before = cpu.runs.length + gpu.runs.length;
    await calibrateKernels([node('again', relu(ramp(N, 4))).node], ctx);
    expect(cpu.runs.length + gpu.runs.length).toBe(before);
  });

  it('calibrates only a device that has no model for the kernel yet', async () => {
    const { cpu, gpu } = devices();
    const costs = new CostModel();
    for (let i = 0; i < 4; i++) costs.recordKernel('relu', 'cpu', N, cpu.cost('relu', N));
    const ctx = context([cpu, gpu], costs);
    await calibrateKernels([node('op0', relu(ramp(N, 1))).node], ctx);
    expect(cpu.runs).toHaveLength(0);
    expect(gpu.runs).toHaveLength(12);
  });
});

describe('calibration in the executor', () => {
  it('calibrates before the first large op of a cold model, not before the second, and computes both right', async () => {
    const { cpu, gpu } = devices();
    const ctx = context([cpu, gpu]);
    const first = node('op0', relu(ramp(N, 1)));
    await runGraph([first.node], ctx);
    await first.done;
    expectRelu(first.node.call);
    const graph1 = ctx.recorder.lastGraph()!.id;
    expect(calibrationSpans(ctx, graph1)).toHaveLength(6);
    expect(new Set(calibrationSpans(ctx, graph1).map((s) => s.track))).toEqual(new Set(['cpu', 'gpu:0']));
    // The calibration runs came first on each device, before any of the op's own pieces.
    expect(cpu.runs.slice(0, 12).every((r) => r.range.end - r.range.start <= N / 64)).toBe(true);

    const second = node('op1', relu(ramp(N, 2)));
    await runGraph([second.node], ctx);
    await second.done;
    expectRelu(second.node.call);
    const graph2 = ctx.recorder.lastGraph()!.id;
    expect(graph2).not.toBe(graph1);
    expect(calibrationSpans(ctx, graph2)).toHaveLength(0);
    expect(ctx.recorder.spans().filter((s) => s.graph === graph2).length).toBeGreaterThan(0);
  });

  it('leaves a device that is lost during calibration out, and runs the op on the other', async () => {
    const cpu = new FakeDevice('cpu', { kind: 'cpu', msPerElement: 1e-4 });
    const gpu = new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 3e-5, loseOnRun: 2 });
    const ctx = context([cpu, gpu]);
    const op = node('op0', relu(ramp(N, 1)));
    await runGraph([op.node], ctx);
    await op.done;
    expectRelu(op.node.call);
    expect(gpu.health()).toBe('lost');
    // The GPU's first pass failed at its second slice and it was not tried again.
    expect(gpu.runs).toHaveLength(2);
    const failed = calibrationSpans(ctx).filter((s) => s.track === 'gpu:0');
    expect(failed).toHaveLength(1);
    expect(String(failed[0]!.args.error)).toMatch(/lost/);
    expect(ctx.costs.samples('relu', 'gpu:0')).toBe(0);
    // The CPU was calibrated and then ran the op whole.
    expect(cpu.runs.filter((r) => r.range.start === 0 && r.range.end === N)).toHaveLength(1);
  });
});

describe('calibrateTransfers', () => {
  it('times uploads of 1 and 8 MiB only on healthy GPUs without a transfer model, once', async () => {
    const cpu = new FakeDevice('cpu', { kind: 'cpu', msPerElement: 1e-4, uploadMsPerMiB: 1 });
    const fresh = new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 1e-5, uploadMsPerMiB: 0.5 });
    const known = new FakeDevice('gpu:1', { kind: 'gpu', msPerElement: 1e-5, uploadMsPerMiB: 0.5 });
    const lost = new FakeDevice('gpu:2', { kind: 'gpu', msPerElement: 1e-5, uploadMsPerMiB: 0.5, loseOnRun: 1 });
    await lost.run(relu(ramp(4, 1))).catch(() => undefined);
    expect(lost.health()).toBe('lost');
    const costs = new CostModel();
    costs.recordTransfer('gpu:1', 2 ** 20, 0.5);
    await calibrateTransfers([cpu, fresh, known, lost], costs);

    const MiB = 2 ** 20;
    expect(fresh.uploads).toEqual([MiB, 8 * MiB, MiB, 8 * MiB]);
    expect(cpu.uploads).toEqual([]);
    expect(known.uploads).toEqual([]);
    expect(lost.uploads).toEqual([]);
    // The model learned the fake link: 0.5 ms per MiB.
    expect(costs.predictTransfer('gpu:0', 8 * MiB)).toBeCloseTo(4, 3);
    expect(costs.predictTransfer('gpu:0', 64 * MiB)).toBeCloseTo(32, 2);
    expect(costs.predictTransfer('cpu', MiB)).toBeUndefined();

    await calibrateTransfers([cpu, fresh, known, lost], costs);
    expect(fresh.uploads).toHaveLength(4);
  });
});
