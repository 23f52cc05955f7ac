/**
 * The planner unlearns a bad sample. These tests drive the real graph executor (calibration,
 * planning, exploration, runs) over a test double backend whose runs advance a fake clock by a
 * fixed cost per element, so every "measurement" is exact and the test times nothing real.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Backend, IndexRange, KernelCall } from '../src/backend/index.ts';
import type { DeviceDescription } from '../src/index.ts';
import { CostModel } from '../src/planner/cost-model.ts';
import { Recorder } from '../src/trace/recorder.ts';
import { Tensor } from '../src/index.ts';
import { runGraph } from '../src/executor/graph.ts';
import type { GraphNode } from '../src/graph/graph.ts';
import type { GraphContext } from '../src/planner/graph-plan.ts';
import { predictSplitMs, splitDevices, worthSplitting } from '../src/planner/split-sizing.ts';

let clock = 0;

/**
 * Runs advance `clock` by `msPerElement` per element; `ran` logs what each run covered. A `gpu`
 * is emulated in software (like lavapipe: one machine with the CPU) unless `software` says not.
 */
function fakeBackend(id: string, kind: DeviceDescription['kind'], msPerElement: number, ran: Array<{ device: string; elements: number }>, software = kind === 'gpu'): Backend {
  const device: DeviceDescription = { id, backend: id, kind, description: id, software, lanes: 1, limits: { maxBufferBytes: 2 ** 31, maxBindingBytes: 2 ** 31 } };
  return {
    name: id,
    device,
    init: async () => undefined,
    health: () => 'ok',
    supports: (kernel) => kernel === 'relu',
    async run(call: KernelCall, range?: IndexRange) {
      const elements = range ? range.end - range.start : call.output.size;
      clock += 0.5 + elements * msPerElement;
      ran.push({ device: id, elements });
      return undefined;
    },
    upload: async () => undefined,
    transfers: () => ({ uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 }),
    dispose: async () => undefined,
  };
}

const N = 1 << 16;

/** `times` samples of relu over N elements on `device`, as the fake backends time them at `msPerElement`. */
function seedRelu(costs: CostModel, device: string, msPerElement: number, times: number): void {
  for (let i = 0; i < times; i++) costs.recordKernel('relu', device, N, 0.5 + N * msPerElement);
}

/** One graph of one relu node over N elements; resolves with the device that ran it whole. */
async function runOnce(ctx: GraphContext, ran: Array<{ device: string; elements: number }>): Promise<string> {
  const x = Tensor.zeros([N]);
  const call: KernelCall = { kernel: 'relu', args: [x], params: {}, output: Tensor.zeros([N]) };
  let settle!: (error?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => (settle = (e) => (e ? reject(e) : resolve())));
  const node: GraphNode = { id: 'op0', call, device: undefined, resolve: () => settle(), reject: (e) => settle(e ?? new Error('rejected')) };
  const from = ran.length;
  await runGraph([node], ctx);
  await done;
  const whole = ran.slice(from).filter((r) => r.elements === N);
  expect(whole).toHaveLength(1);
  return whole[0]!.device;
}

describe('planner: a bad early sample is unlearned, and a device that could not win is not probed', () => {
  beforeEach(() => {
    clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
  });
  afterEach(() => vi.restoreAllMocks());

  it('re-explores a device seeded with one absurdly slow sample and then places the node there', async () => {
    const ran: Array<{ device: string; elements: number }> = [];
    // Truth: the CPU is 3× faster than the software GPU. The model was seeded (a calibration slice
    // timed while the machine was busy) with a CPU run 1000× slower than that.
    const cpu = fakeBackend('cpu', 'cpu', 1e-4, ran);
    const gpu = fakeBackend('gpu', 'gpu', 3e-4, ran);
    const costs = new CostModel();
    costs.recordKernel('relu', 'gpu', N / 16, 0); // the first run of a process is dropped
    costs.recordKernel('relu', 'gpu', N / 16, 0.5 + (N / 16) * 3e-4);
    costs.recordKernel('relu', 'cpu', N / 16, 0);
    costs.recordKernel('relu', 'cpu', N / 16, 1000 * (N / 16) * 1e-4);
    const ctx: GraphContext = { backends: [cpu, gpu], costs, recorder: new Recorder(), policy: 'auto', splitMinElements: 1 << 15 };

    // With that sample the GPU is the predicted-fastest: the first run goes there.
    expect(await runOnce(ctx, ran)).toBe('gpu');
    const placements: string[] = [];
    for (let run = 0; run < 4; run++) placements.push(await runOnce(ctx, ran));
    // The CPU got exploration slices, and the corrected model moved the node to it for good.
    expect(ran.some((r) => r.device === 'cpu' && r.elements < N)).toBe(true);
    expect(placements.slice(-2)).toEqual(['cpu', 'cpu']);
    expect(costs.confidence('relu', 'cpu', N).uncertain).toBe(false);
    expect(costs.predictKernel('relu', 'cpu', N)! / (0.5 + N * 1e-4)).toBeLessThan(2);
  });

  it('does not keep exploring a device that really is slow once it is measured', async () => {
    const ran: Array<{ device: string; elements: number }> = [];
    const cpu = fakeBackend('cpu', 'cpu', 1e-4, ran);
    const gpu = fakeBackend('gpu', 'gpu', 1e-3, ran);
    const ctx: GraphContext = { backends: [cpu, gpu], costs: new CostModel(), recorder: new Recorder(), policy: 'auto', splitMinElements: 1 << 15 };
    for (let run = 0; run < 3; run++) await runOnce(ctx, ran);
    // Calibration gave the GPU 3 passes of 4 slices; with one sample of the node's size class it
    // was still uncertain, so it was re-explored on slices of the node as well.
    expect(ran.filter((r) => r.device === 'gpu' && r.elements < N).length).toBeGreaterThan(12);
    const before = ran.length;
    for (let run = 0; run < 5; run++) expect(await runOnce(ctx, ran)).toBe('cpu');
    // Confident now: each later graph runs its one node, no slices.
    expect(ran.length - before).toBe(5);
  });

  it("does not probe a device 3× slower that is doubted only because the chosen device's times swung", async () => {
    const ran: Array<{ device: string; elements: number }> = [];
    const cpu = fakeBackend('cpu', 'cpu', 1e-4, ran);
    const gpu = fakeBackend('gpu', 'gpu', 3e-4, ran);
    const costs = new CostModel();
    seedRelu(costs, 'cpu', 2.5e-4, 6); // measured while the machine was busy: 2.5× its own speed
    seedRelu(costs, 'gpu', 3e-4, 6);
    const ctx: GraphContext = { backends: [cpu, gpu], costs, recorder: new Recorder(), policy: 'auto', splitMinElements: 1 << 15 };
    // The first quiet runs leave the CPU's prediction between its busy and quiet times (16.9 ms
    // against the GPU's 20.2 ms), within 2×: the GPU gets one round of probes.
    for (let run = 0; run < 3; run++) expect(await runOnce(ctx, ran)).toBe('cpu');
    expect(costs.predictKernel('relu', 'cpu', N)! * 2).toBeLessThan(costs.predictKernel('relu', 'gpu', N)!);
    const before = ran.length;
    for (let run = 0; run < 4; run++) expect(await runOnce(ctx, ran)).toBe('cpu');
    // The CPU's quiet runs still contradict the times the GPU was compared with, so the GPU is in
    // doubt, but it is predicted over 2× slower than the CPU now: no change of 2× could make it
    // the faster one, and it gets no more probes.
    expect(costs.confidence('relu', 'gpu', N)).toMatchObject({ contradicted: true, uncertain: true });
    expect(ran.slice(before).filter((r) => r.device === 'gpu')).toEqual([]);
  });

  it('still probes a doubted device that a 2× change could make the faster one', async () => {
    const ran: Array<{ device: string; elements: number }> = [];
    const cpu = fakeBackend('cpu', 'cpu', 1e-4, ran);
    const gpu = fakeBackend('gpu', 'gpu', 1.5e-4, ran);
    const costs = new CostModel();
    seedRelu(costs, 'cpu', 2.5e-4, 6);
    seedRelu(costs, 'gpu', 3e-4, 6); // it too was measured busy
    const ctx: GraphContext = { backends: [cpu, gpu], costs, recorder: new Recorder(), policy: 'auto', splitMinElements: 1 << 15 };
    for (let run = 0; run < 6; run++) await runOnce(ctx, ran);
    expect(ran.some((r) => r.device === 'gpu' && r.elements < N)).toBe(true);
  });
});

describe('worthSplitting', () => {
  it('splits to measure a device whose "20× slower" rests on too few samples, and not once it is measured', () => {
    const ran: Array<{ device: string; elements: number }> = [];
    // Two separate devices (a real GPU, not one emulated on the CPU's cores): a split can pay.
    const withGpu = [fakeBackend('cpu', 'cpu', 1e-4, ran), fakeBackend('gpu:0', 'gpu', 1e-4, ran, false)];
    const m = new CostModel();
    for (let i = 0; i < 4; i++) m.recordKernel('relu', 'cpu', N, 1);
    m.recordKernel('relu', 'gpu:0', N, 0); // warm-up, dropped
    m.recordKernel('relu', 'gpu:0', N, 20); // one sample, 20× slower
    expect(worthSplitting('relu', N, withGpu, m, 'auto')).toBe(true);
    for (let i = 0; i < 2; i++) m.recordKernel('relu', 'gpu:0', N, 20);
    expect(worthSplitting('relu', N, withGpu, m, 'auto')).toBe(false);
  });

  /** A model of `relu` on a device: `fixedMs` per run plus `msPerElement`, measured at sizes from N/64 to N. */
  const measure = (m: CostModel, device: string, fixedMs: number, msPerElement: number) => {
    m.recordKernel('relu', device, N, fixedMs + N * msPerElement); // a process's first run: dropped
    for (let n = N / 64; n <= N; n *= 2) for (let i = 0; i < 3; i++) m.recordKernel('relu', device, n, fixedMs + n * msPerElement);
  };
  const realGpu = () => {
    const ran: Array<{ device: string; elements: number }> = [];
    return [fakeBackend('cpu', 'cpu', 0, ran), fakeBackend('gpu:0', 'gpu', 0, ran, false)];
  };

  it('splits across two devices of equal speed whose runs cost little beyond their work', () => {
    const m = new CostModel();
    measure(m, 'cpu', 0.01, 1e-4);
    measure(m, 'gpu:0', 0.01, 1e-4);
    const whole = m.predictKernel('relu', 'cpu', N)!;
    expect(predictSplitMs('relu', N, realGpu(), m)!).toBeLessThan(0.6 * whole);
    expect(worthSplitting('relu', N, realGpu(), m, 'auto')).toBe(true);
  });

  it('runs a small op whole on a real GPU 3× faster when every chunk pays a dispatch and a readback', () => {
    // What an H200 showed: matmul 512 in ~0.3 ms on the GPU, ~3× that over 16 workers, and each
    // chunk paying ~0.2 ms fixed. The old rule (split when within 4×) split it and ran 8× slower.
    const m = new CostModel();
    measure(m, 'cpu', 0.2, 2.4e-5 * 3);
    measure(m, 'gpu:0', 0.2, 2.4e-5);
    const fastest = Math.min(m.predictKernel('relu', 'cpu', N)!, m.predictKernel('relu', 'gpu:0', N)!);
    expect(predictSplitMs('relu', N, realGpu(), m)!).toBeGreaterThan(fastest);
    expect(worthSplitting('relu', N, realGpu(), m, 'auto')).toBe(false);
    // The same devices on work 100× larger per element: the fixed cost no longer matters, and the split pays.
    const big = new CostModel();
    measure(big, 'cpu', 0.2, 2.4e-3 * 3);
    measure(big, 'gpu:0', 0.2, 2.4e-3);
    expect(worthSplitting('relu', N, realGpu(), big, 'auto')).toBe(true);
  });

  it('does not split a small op just to measure an uncertain device when the chunks would cost over 1.5× the op whole', () => {
    const m = new CostModel();
    measure(m, 'gpu:0', 0.2, 2.4e-6);
    // Two samples of the CPU, near the size: uncertain.
    m.recordKernel('relu', 'cpu', N, 0); // dropped
    for (let i = 0; i < 2; i++) m.recordKernel('relu', 'cpu', N, 0.2 + N * 2.4e-6 * 3);
    expect(m.confidence('relu', 'cpu', N).uncertain).toBe(true);
    const whole = m.predictKernel('relu', 'gpu:0', N)!;
    expect(predictSplitMs('relu', N, realGpu(), m)!).toBeGreaterThan(1.5 * whole);
    expect(worthSplitting('relu', N, realGpu(), m, 'auto')).toBe(false);
  });

  it("splits between the workers and the cluster when a software GPU shares the workers' cores, leaving the software GPU out", () => {
    const ran: Array<{ device: string; elements: number }> = [];
    const able = [fakeBackend('cpu', 'cpu', 0, ran), fakeBackend('gpu:0', 'gpu', 0, ran, true), fakeBackend('cluster', 'cluster', 0, ran, false)];
    expect(splitDevices(able, 'auto').map((b) => b.device.id)).toEqual(['cpu', 'cluster']);
    expect(splitDevices(able, 'eager').map((b) => b.device.id)).toEqual(['cpu', 'gpu:0', 'cluster']);
    const m = new CostModel();
    measure(m, 'cpu', 0.5, 1e-3);
    measure(m, 'gpu:0', 0.5, 1e-3);
    measure(m, 'cluster', 5, 1e-3);
    // Heavy work with a fixed cost of 5 ms a slice: the split pays.
    expect(worthSplitting('relu', N, able, m, 'auto')).toBe(true);
    // Without the cluster, the software GPU and the CPU alone: never split.
    expect(worthSplitting('relu', N, able.slice(0, 2), m, 'auto')).toBe(false);
  });

  it('keeps light work off the cluster when a slice costs more in round trips than it saves', () => {
    const ran: Array<{ device: string; elements: number }> = [];
    const able = [fakeBackend('cpu', 'cpu', 0, ran), fakeBackend('cluster', 'cluster', 0, ran, false)];
    const m = new CostModel();
    measure(m, 'cpu', 0.05, 1e-5);
    measure(m, 'cluster', 5, 1e-5);
    expect(worthSplitting('relu', N, able, m, 'auto')).toBe(false);
  });

  it('leaves a device 20× slower out even when runs cost nothing fixed: it would add a twentieth at most', () => {
    const m = new CostModel();
    measure(m, 'cpu', 0, 2e-3);
    measure(m, 'gpu:0', 0, 1e-4);
    expect(worthSplitting('relu', N, realGpu(), m, 'auto')).toBe(false);
  });
});

describe('CostModel.confidence', () => {
  const seed = (m: CostModel, device: string, n: number, ms: number, times: number) => {
    for (let i = 0; i < times; i++) m.recordKernel('k', device, n, ms);
  };

  it('is uncertain below three samples near the size, and ignores samples far from it', () => {
    const m = new CostModel();
    seed(m, 'cpu', 1000, 1, 1); // warm-up, dropped
    seed(m, 'cpu', 1000, 1, 2);
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ samples: 2, uncertain: true });
    seed(m, 'cpu', 1000, 1, 1);
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ samples: 3, uncertain: false });
    // A thousand times larger: none of those samples is near it.
    expect(m.confidence('k', 'cpu', 1e6)).toMatchObject({ samples: 0, uncertain: true });
  });

  it('grows uncertain with age: many samples on other devices since the newest one here', () => {
    const m = new CostModel();
    seed(m, 'cpu', 1000, 1, 4);
    seed(m, 'gpu', 1000, 2, 20);
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ age: 19, uncertain: false });
    seed(m, 'gpu', 1000, 2, 20);
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ age: 39, contradicted: false, uncertain: true });
    seed(m, 'cpu', 1000, 1, 1);
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ age: 0, uncertain: false });
  });

  it('re-measures a device whose samples keep agreeing ever more rarely: each sample past three doubles the age it may reach', () => {
    const m = new CostModel();
    seed(m, 'cpu', 1000, 1, 6); // 5 samples kept (the first run is a warm-up): stale after 32 × 2² others
    seed(m, 'gpu', 1000, 2, 100);
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ samples: 5, age: 99, uncertain: false });
    seed(m, 'gpu', 1000, 2, 30);
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ age: 129, uncertain: true });
  });

  it('is contradicted when another device has since run over 2× faster than when this one was measured', () => {
    const m = new CostModel();
    seed(m, 'gpu', 1000, 10, 4); // a busy machine: every device slow
    seed(m, 'cpu', 1000, 10, 4);
    seed(m, 'gpu', 1000, 10, 3);
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ contradicted: false, uncertain: false });
    seed(m, 'gpu', 1000, 2, 5); // the load went away: the GPU now takes a fifth of that
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ contradicted: true, uncertain: true });
  });

  it('grows uncertain when its own newest times shift over 3× from the ones before (a load came), and settles once the shift fills both windows', () => {
    const m = new CostModel();
    seed(m, 'cpu', 1000, 7, 9); // quiet: 8 samples kept
    seed(m, 'gpu', 1000, 12, 3);
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ shifted: false, uncertain: false });
    seed(m, 'cpu', 1000, 70, 3); // three runs while the machine was busy
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ shifted: true, uncertain: true });
    // Re-measured quiet again: predicted at its old speed at once, and settled once the busy runs leave the window before.
    seed(m, 'cpu', 1000, 7, 5);
    expect(m.predictKernel('k', 'cpu', 1000)).toBeCloseTo(7, 0);
    seed(m, 'cpu', 1000, 7, 3);
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ shifted: false, uncertain: false });
    // A lasting change: uncertain while the windows disagree, settled once both hold the new speed.
    seed(m, 'cpu', 1000, 40, 5);
    expect(m.confidence('k', 'cpu', 1000).shifted).toBe(true);
    seed(m, 'cpu', 1000, 40, 5);
    expect(m.confidence('k', 'cpu', 1000)).toMatchObject({ shifted: false, uncertain: false });
  });

  it('does not call 2× jitter a shift', () => {
    const m = new CostModel();
    for (let i = 0; i < 12; i++) m.recordKernel('k', 'gpu', 1000, i % 2 ? 0.2 : 0.4);
    expect(m.confidence('k', 'gpu', 1000).shifted).toBe(false);
  });

  it('leaves out the first run far larger than any before it in the process, as it does the very first run', () => {
    // What the flights km kernel showed: calibration slices of 8K-17K rows, then the first run of a
    // 272K-row batch at 35 ms while V8 optimised the workers' loop, against ~7 ms after.
    const m = new CostModel();
    expect(m.recordKernel('k', 'cpu', 8_524, 3.7)).toBe(false); // the process's first run
    expect(m.recordKernel('k', 'cpu', 17_044, 2.2)).toBe(true);
    expect(m.recordKernel('k', 'cpu', 272_727, 35)).toBe(false); // 16× past the largest so far
    expect(m.recordKernel('k', 'cpu', 272_727, 7)).toBe(true);
    expect(m.recordKernel('k', 'cpu', 34_092, 1.2)).toBe(true); // smaller again: kept
    expect(m.samples('k', 'cpu')).toBe(3);
  });

  it('predicts from the samples near a size when an early outlier pulled the fit off', () => {
    const m = new CostModel();
    m.recordKernel('k', 'cpu', 100, 1); // warm-up
    m.recordKernel('k', 'cpu', 100, 500); // busy machine
    m.recordKernel('k', 'cpu', 200, 800);
    for (let i = 0; i < 3; i++) m.recordKernel('k', 'cpu', 1e5, 10);
    expect(m.predictKernel('k', 'cpu', 1e5)).toBeCloseTo(10, 3);
  });
});
