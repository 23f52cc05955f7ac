/**
 * The tfjs backend's engines in one thread: picking the best, refusing an unavailable one with the
 * fix, several TfjsBackends with different engines sharing tfjs's global engine, worker threads,
 * and the tensorflow engine (its kernel suite runs when @tensorflow/tfjs-node is installed, and
 * skips saying so when it isn't).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, WorkerPool } from '@tandem/core';
import { kernelCall, type KernelCall } from '@tandem/core/backend';
import { TfjsBackend, TFJS_ENGINES, probeEngines } from '../src/tfjs/index.ts';
import { TOLERANCE, expectClose, random, refMatmul, refReduce, settleGarbage, tensor } from './harness.ts';
import { FULL, kernelSuite } from './fixtures/tfjs/suite.ts';

const tensorflow = await new TfjsBackend({ engine: 'tensorflow' }).init().then(
  () => ({ available: true, reason: '' }),
  (error: unknown) => ({ available: false, reason: (error as Error).message, error }),
);
if (!tensorflow.available) console.warn(`skipping the tensorflow engine's kernel suite: ${tensorflow.reason}`);

describe('engines', () => {
  it('probeEngines lists every engine, best first, with a reason for each unavailable one', async () => {
    const probes = await probeEngines();
    expect(probes.map((p) => p.engine)).toEqual([...TFJS_ENGINES]);
    for (const p of probes) if (!p.available) expect(p.reason).toMatch(/tfjs: engine '\w+': .+ — .+/);
    expect(probes.find((p) => p.engine === 'wasm')?.available).toBe(true);
    expect(probes.find((p) => p.engine === 'cpu')?.available).toBe(true);
    expect(probes.find((p) => p.engine === 'tensorflow')?.available).toBe(tensorflow.available);
    console.log(`[tfjs engines] ${probes.map((p) => `${p.engine}: ${p.available ? 'available' : p.reason}`).join(' | ')}`);
  });

  it('without an engine, picks the first that initialises, a software GPU only when nothing else does', async () => {
    const probes = await probeEngines();
    const best = (probes.find((p) => p.available && !p.software) ?? probes.find((p) => p.available))!.engine;
    if (probes.some((p) => p.engine === 'webgpu' && p.software)) expect(best).toBe(tensorflow.available ? 'tensorflow' : 'wasm');
    const backend = new TfjsBackend();
    expect(backend.engine).toBeUndefined();
    await backend.init();
    expect(backend.engine).toBe(best);
    expect(backend.device.id).toBe(`tfjs:${best}`);
    await backend.dispose();
  });

  it.runIf(!tensorflow.available)('the tensorflow engine without @tensorflow/tfjs-node rejects with the fix', async () => {
    const error = (tensorflow as { error?: unknown }).error as BackendUnavailableError;
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.code).toBe('ERR_TANDEM_BACKEND_UNAVAILABLE');
    expect(error.message).toContain('@tensorflow/tfjs-node is not installed');
    expect(error.fix).toBe('`npm install @tensorflow/tfjs-node` on a machine that can reach storage.googleapis.com (its install script downloads libtensorflow)');
    // Asking again gives the same answer (the failed load is remembered), and nothing else broke.
    await expect(new TfjsBackend({ engine: 'tensorflow' }).init()).rejects.toBe(error);
  });

  it('rejects an unknown engine and use before init', async () => {
    expect(() => new TfjsBackend({ engine: 'gpu' as never })).toThrow(/options.engine: expected one of tensorflow, webgpu, wasm, cpu/);
    const backend = new TfjsBackend({ engine: 'cpu' });
    expect(() => backend.device).toThrow(BackendUnavailableError);
    await expect(backend.run(kernelCall('neg', [tensor([1])]))).rejects.toThrow(/not initialised/);
    expect(backend.supports('neg')).toBe(false);
    expect(backend.transfers()).toEqual({ uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 });
  });
});

describe('several engines in one thread', () => {
  let onCpu: TfjsBackend;
  let onWasm: TfjsBackend;
  beforeAll(async () => {
    onCpu = new TfjsBackend({ engine: 'cpu' });
    onWasm = new TfjsBackend({ engine: 'wasm' });
    await Promise.all([onCpu.init(), onWasm.init()]);
  });
  afterAll(async () => {
    await onCpu.dispose();
    await onWasm.dispose();
  });

  it('interleaved runs each compute on their own engine', async () => {
    const dataIds = (engine: string) => tf.findBackend(engine)!.numDataIds();
    const [m, k, n] = [64, 33, 17];
    const jobs: { backend: TfjsBackend; call: KernelCall; a: Float32Array; b: Float32Array }[] = [];
    for (let i = 0; i < 12; i++) {
      const a = random(m * k, 100 + i);
      const b = random(k * n, 200 + i);
      jobs.push({ backend: i % 2 ? onWasm : onCpu, call: kernelCall('matmul', [tensor(a, [m, k]), tensor(b, [k, n])]), a, b });
    }
    const cpuBefore = dataIds('cpu');
    const wasmBefore = dataIds('wasm');
    await Promise.all(jobs.map((j) => j.backend.run(j.call)));
    for (const j of jobs) expectClose(j.call.output.data, refMatmul(j.a, j.b, m, k, n), TOLERANCE.matmul(k));
    // Each run kept its two inputs and its output on its own engine.
    expect(dataIds('cpu') - cpuBefore).toBe(18);
    expect(dataIds('wasm') - wasmBefore).toBe(18);
    expect(onCpu.device.id).toBe('tfjs:cpu');
    expect(onWasm.device.id).toBe('tfjs:wasm');
  });

  it("leaves the application's active tfjs backend as it was", async () => {
    await tf.setBackend('cpu');
    await onWasm.run(kernelCall('sum', [tensor(random(1000))]));
    expect(tf.getBackend()).toBe('cpu');
    await tf.setBackend('wasm');
    await onCpu.run(kernelCall('sum', [tensor(random(1000))]));
    expect(tf.getBackend()).toBe('wasm');
  });

  it('disposing one leaves the other working', async () => {
    const extra = new TfjsBackend({ engine: 'wasm' });
    await extra.init();
    await extra.run(kernelCall('neg', [tensor(random(10))]));
    await extra.dispose();
    const x = random(1000, 3);
    const call = kernelCall('sum', [tensor(x)]);
    const partial = await onWasm.run(call);
    expectClose(partial!, [refReduce('sum', x)], TOLERANCE.sum(x));
  });
});

describe('device copies', () => {
  it('stay within cacheBytes, dropping the least recently used first', async () => {
    const backend = new TfjsBackend({ engine: 'cpu', cacheBytes: 8000 });
    await backend.init();
    try {
      await settleGarbage();
      const before = tf.memory().numTensors;
      const [a, b, c] = [1, 2, 3].map((seed) => tensor(random(1000, seed)));
      for (const t of [a, b, c]) await backend.run(kernelCall('sum', [t!]));
      // Three 4000-byte copies don't fit in 8000: a went.
      expect(tf.memory().numTensors - before).toBe(2);
      expect(backend.transfers().uploads).toBe(3);
      await backend.run(kernelCall('sum', [c!]));
      expect(backend.transfers().uploads).toBe(3);
      await backend.run(kernelCall('sum', [a!]));
      expect(backend.transfers().uploads).toBe(4);
      expect(tf.memory().numTensors - before).toBe(2);
    } finally {
      await backend.dispose();
    }
  });
});

describe('worker threads', () => {
  it('each worker thread loads its own engines; tensors arrive on shared memory', async () => {
    const pool = new WorkerPool({ workers: 2 });
    try {
      const x = tensor(random(5000, 9));
      const results = await Promise.all([0, 1].map(() =>
        pool.run<{ probes: { engine: string; available: boolean; reason?: string }[]; id: string; sum: number }>(
          new URL('./fixtures/tfjs/in-worker.ts', import.meta.url), 'sumOnWasm', [x])));
      for (const r of results) {
        expect(r.id).toBe('tfjs:wasm');
        expectClose([r.sum], [refReduce('sum', x.data)], TOLERANCE.sum(x.data));
        expect(r.probes.find((p) => p.engine === 'cpu')?.available).toBe(true);
        const tfNode = r.probes.find((p) => p.engine === 'tensorflow')!;
        // tfjs-node's addon loads in one thread per process: this test's thread may already hold it.
        if (tensorflow.available) expect(tfNode.available ? '' : tfNode.reason).toMatch(/^$|one thread per process/);
        else expect(tfNode.reason).toContain('not installed');
      }
    } finally {
      await pool.destroy();
    }
  });
});

describe.skipIf(!tensorflow.available)('tfjs backend, tensorflow engine (@tensorflow/tfjs-node)', () => {
  let backend: TfjsBackend;
  beforeAll(async () => {
    backend = new TfjsBackend({ engine: 'tensorflow' });
    await backend.init();
  });
  afterAll(() => backend.dispose());
  kernelSuite('tensorflow', FULL, () => backend);
});
