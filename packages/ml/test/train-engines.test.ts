import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceLostError } from '@tandem/core';
import { datasets, train, type LabelledSet, type ReplicaFailure, type TrainData } from '../src/index.ts';
import { gpuOrSkip } from '../../backends/test/harness.ts';
import { describeAdapter, requestAdapter } from '@tandem/backends';
import { probeEngines } from '@tandem/backends/tfjs-engines';
import { subset } from './fixtures/subset.ts';

const MLP = new URL('./fixtures/mlp.ts', import.meta.url);
const CNN = new URL('./fixtures/cnn.ts', import.meta.url);
const FAULTY = new URL('./fixtures/faulty-mlp.ts', import.meta.url);

const bitsEqual = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('train on other engines and models', () => {
  let data: TrainData;
  let gpu: { available: boolean; reason?: string };

  beforeAll(async () => {
    const mnist = await datasets.mnist();
    data = { train: subset(mnist.train, 1000), test: subset(mnist.test, 500) };
    gpu = await gpuOrSkip(() => requestAdapter('tfjs'));
  });

  it('trains a CNN on wasm replicas (conv gradients registered in each) and keeps them bit-identical', async () => {
    const checks: boolean[] = [];
    const result = await train({
      model: CNN, data, epochs: 2, batchSize: 50, replicas: 2, seed: 1,
      onEpoch: async (_r, context) => {
        const [a, b] = await context.replicaWeights();
        checks.push(bitsEqual(a!, b!));
      },
    });
    expect(checks).toEqual([true, true]);
    expect(result.replicas.map((r) => r.engine)).toEqual(['wasm', 'wasm']);
    expect(result.history[1]!.loss).toBeLessThan(result.history[0]!.loss);
    expect(result.testAccuracy).toBeGreaterThan(0.6); // measured 0.8; chance is 0.1
  });

  it('trains with a webgpu replica beside a wasm one, bit-identical, matching wasm-only training', async (ctx) => {
    if (!gpu.available) ctx.skip(`no WebGPU adapter for tfjs: ${gpu.reason}`);
    const opts = { model: MLP, config: { hidden: 16 }, data: { train: subset(data.train as LabelledSet, 400) }, epochs: 2, batchSize: 100, seed: 4, balance: 'equal' as const };
    const checks: boolean[] = [];
    const mixed = await train({
      ...opts, replicas: ['wasm', 'webgpu'],
      onEpoch: async (_r, context) => {
        const [a, b] = await context.replicaWeights();
        checks.push(bitsEqual(a!, b!));
      },
    });
    expect(mixed.replicas[1]!.engine).toBe('webgpu');
    expect(mixed.replicas[1]!.description).toMatch(/webgpu/);
    expect(checks).toEqual([true, true]);
    const wasm = await train({ ...opts, replicas: ['wasm', 'wasm'] });
    // Different engines round differently inside the forward/backward pass: close, not equal.
    mixed.history.forEach((h, e) => expect(Math.abs(h.loss - wasm.history[e]!.loss) / wasm.history[e]!.loss).toBeLessThan(1e-3));
  });

  it('replaces a webgpu replica whose device is lost mid-epoch, on a fresh thread and device', async (ctx) => {
    if (!gpu.available) ctx.skip(`no WebGPU adapter for tfjs: ${gpu.reason}`);
    const dir = mkdtempSync(join(tmpdir(), 'tandem-lost-'));
    try {
      const checks: boolean[] = [];
      const failures: ReplicaFailure[] = [];
      const result = await train({
        model: FAULTY, config: { hidden: 16, fail: { marker: join(dir, 'marker'), afterCalls: 2, mode: 'lose-device' } },
        data: { train: subset(data.train as LabelledSet, 400) }, epochs: 2, batchSize: 100, seed: 4, balance: 'equal', replicas: ['wasm', 'webgpu'],
        onFailure: (f) => failures.push(f),
        onEpoch: async (_r, context) => {
          const [a, b] = await context.replicaWeights();
          checks.push(bitsEqual(a!, b!));
        },
      });
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ slot: 1, engine: 'webgpu', action: 'replaced' });
      expect(failures[0]!.error).toBeInstanceOf(DeviceLostError);
      expect(checks).toEqual([true, true]);
      for (const h of result.history) expect(h.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says which replicas a list or 'auto' gave", async () => {
    const small = { model: MLP, data: { train: subset(data.train as LabelledSet, 200) }, epochs: 1, batchSize: 100 };
    const listed = await train({ ...small, replicas: ['cpu', 'wasm'] });
    expect(listed.replicas.map((r) => r.engine)).toEqual(['cpu', 'wasm']);
    expect(listed.replicas[0]!.description).toMatch(/cpu/);
    // The rule, from what this machine has: a wasm replica per worker of the session (train's own
    // has one per core), or one tensorflow replica when tfjs-node is installed; on a hardware
    // adapter one of those workers feeds a webgpu replica instead (a software one shares the cores).
    const tensorflow = (await probeEngines()).find((p) => p.engine === 'tensorflow')!.available;
    const cpu = tensorflow ? ['tensorflow'] : new Array<string>(availableParallelism()).fill('wasm');
    const hardware = await requestAdapter('tfjs').then((a) => !describeAdapter(a).software, () => false);
    const auto = await train({ ...small, replicas: 'auto' });
    expect(auto.replicas.map((r) => r.engine)).toEqual(hardware ? [...(tensorflow ? cpu : cpu.slice(1)), 'webgpu'] : cpu);
  });
});
