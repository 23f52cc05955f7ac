import { describe, expect, it } from 'vitest';
import { CostModel } from '../src/planner/cost-model.ts';
import { modelSignature, planTraining, trainingKernel, type TrainingDevice } from '../src/planner/training.ts';

const cpu: TrainingDevice = { id: 'cpu', kind: 'cpu', software: false };
const gpu: TrainingDevice = { id: 'webgpu:0', kind: 'gpu', software: false };
const lavapipe: TrainingDevice = { id: 'webgpu:0', kind: 'gpu', software: true, description: 'llvmpipe' };
const sig = modelSignature([null, 784], [[784, 32], [32], [32, 10], [10]]);

/** Steps of `engine` on `device` taking `msPerExample` per example, at a few sizes (the first, warm-up, is not kept). */
function learn(costs: CostModel, engine: string, device: string, msPerExample: number): void {
  for (const n of [64, 64, 96, 128, 160, 192, 256]) costs.recordKernel(trainingKernel(sig, engine), device, n, 1 + n * msPerExample);
}

describe('planTraining', () => {
  it('splits equally when nothing was measured, and by predicted throughput once it was', () => {
    const costs = new CostModel();
    const candidates = [{ engine: 'wasm', device: cpu }, { engine: 'cpu', device: cpu }];
    const first = planTraining({ costs, signature: sig, batchSize: 256, candidates, auto: false });
    expect(first.replicas.map((r) => r.share)).toEqual([0.5, 0.5]);
    expect(first.replicas.every((r) => r.throughput === undefined)).toBe(true);
    learn(costs, 'wasm', 'cpu', 0.1);
    learn(costs, 'cpu', 'cpu', 0.4);
    const plan = planTraining({ costs, signature: sig, batchSize: 256, candidates, auto: false });
    const [a, b] = plan.replicas;
    // Equal step times at the planned shares: 1 + n·0.1 = 1 + m·0.4 with n + m = 256 → n ≈ 205.
    expect(a!.share * 256).toBeGreaterThan(195);
    expect(a!.share * 256).toBeLessThan(215);
    expect(a!.share + b!.share).toBeCloseTo(1, 12);
    expect(a!.predictedStepMs!).toBeCloseTo(b!.predictedStepMs!, 0);
  });

  it('reproduces the split a run settled at, even where a step is mostly fixed cost (a flat fit does not run away)', () => {
    const costs = new CostModel();
    // A settled run of batch 200: wasm took ~160 examples, cpu ~40, both steps ~10 ms whatever the size.
    for (const [engine, sizes] of [['wasm', [150, 150, 160, 170, 155, 165]], ['cpu', [35, 35, 40, 45, 38, 42]]] as const) {
      for (const n of sizes) costs.recordKernel(trainingKernel(sig, engine), 'cpu', n, 10 + (n % 3) * 0.1);
    }
    const plan = planTraining({ costs, signature: sig, batchSize: 200, candidates: [{ engine: 'wasm', device: cpu }, { engine: 'cpu', device: cpu }], auto: false });
    expect(plan.replicas[0]!.share).toBeGreaterThan(0.78);
    expect(plan.replicas[0]!.share).toBeLessThan(0.82);
  });

  it("gives an unmeasured replica the mean of the measured ones' throughput", () => {
    const costs = new CostModel();
    learn(costs, 'wasm', 'cpu', 0.1);
    const plan = planTraining({ costs, signature: sig, batchSize: 200, candidates: [{ engine: 'wasm', device: cpu }, { engine: 'cpu', device: cpu }], auto: false });
    expect(plan.replicas[1]!.throughput).toBeUndefined();
    expect(plan.replicas[0]!.share).toBeCloseTo(0.5, 12);
  });

  it("under 'auto' leaves out a software GPU and says why; a listed one is kept", () => {
    const costs = new CostModel();
    const candidates = [{ engine: 'wasm', device: cpu }, { engine: 'wasm', device: cpu }, { engine: 'webgpu', device: lavapipe }];
    const auto = planTraining({ costs, signature: sig, batchSize: 256, candidates, auto: true });
    expect(auto.replicas.map((r) => r.candidate)).toEqual([0, 1]);
    expect(auto.excluded).toHaveLength(1);
    expect(auto.excluded[0]).toMatchObject({ candidate: 2, device: 'webgpu:0' });
    expect(auto.excluded[0]!.reason).toMatch(/software GPU \(llvmpipe\).*same cores/);
    const listed = planTraining({ costs, signature: sig, batchSize: 256, candidates, auto: false });
    expect(listed.replicas).toHaveLength(3);
    expect(listed.excluded).toEqual([]);
  });

  it("under 'auto' leaves out a device predicted under 1/8 of the fastest other, and keeps one just above", () => {
    const costs = new CostModel();
    learn(costs, 'wasm', 'cpu', 0.1);
    learn(costs, 'webgpu', 'webgpu:0', 0.1 * 9); // about 1/9 of the CPU's rate
    const candidates = [{ engine: 'wasm', device: cpu }, { engine: 'webgpu', device: gpu }];
    const plan = planTraining({ costs, signature: sig, batchSize: 256, candidates, auto: true });
    expect(plan.replicas.map((r) => r.device)).toEqual(['cpu']);
    expect(plan.replicas[0]!.share).toBe(1);
    expect(plan.excluded[0]!.reason).toMatch(/under 1\/8 of cpu/);
    const near = new CostModel();
    learn(near, 'wasm', 'cpu', 0.1);
    learn(near, 'webgpu', 'webgpu:0', 0.1 * 6);
    expect(planTraining({ costs: near, signature: sig, batchSize: 256, candidates, auto: true }).replicas).toHaveLength(2);
  });

  it('keys the cost by model signature and engine', () => {
    expect(modelSignature([null, 784], [[784, 32]])).not.toBe(modelSignature([null, 784], [[784, 64]]));
    expect(trainingKernel(sig, 'wasm')).not.toBe(trainingKernel(sig, 'cpu'));
  });
});
