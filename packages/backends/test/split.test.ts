import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CostModel } from '@tandem/core/internal/planner/cost-model';
import { Recorder } from '@tandem/core/internal/trace/recorder';
import { Tandem, WorkerPool, kernel } from '@tandem/core';
import { kernelCall, userCall } from '@tandem/core/backend';
import { runSplit } from '@tandem/core/internal/executor/split';
import { CpuBackend } from '../src/cpu/index.ts';
import { WebGpuBackend } from '../src/webgpu/index.ts';
import { expectClose, gpuOrSkip, random, refMatmul, refReduce, refSort, tensor, TOLERANCE } from './harness.ts';
// Registers Tandem's backends, as `import '@tandem/backends'` does for a user.
import '../src/index.ts';

const gpu = await gpuOrSkip(async () => {
  const b = new WebGpuBackend();
  await b.init();
  await b.dispose();
});

const wave = kernel('wave', function (scale: number) {
  return Math.sin(this.thread.x * scale) * Math.cos(this.thread.y * scale);
});

describe.skipIf(!gpu.available)('a data-parallel call split across the CPU workers and the GPU', () => {
  let pool: WorkerPool;
  let cpu: CpuBackend;
  let webgpu: WebGpuBackend;
  beforeAll(async () => {
    pool = new WorkerPool({ workers: 2 });
    await pool.ready();
    cpu = new CpuBackend(pool);
    webgpu = new WebGpuBackend();
    await Promise.all([cpu.init(), webgpu.init()]);
  });
  afterAll(async () => {
    await webgpu?.dispose();
    await pool?.close();
  });

  it.each([
    ['auto', undefined],
    ['eager', undefined],
    ['fixed shares', { cpu: 3, 'webgpu:0': 1 }],
  ] as const)('equals the single-device result at a size no chunk divides (%s)', async (_label, shares) => {
    const n = 1_000_003;
    const x = tensor(random(n, 1));
    const y = tensor(random(n, 2));
    // add is exactly rounded on every device, so the split result must match bit for bit.
    const single = kernelCall('add', [x, y]);
    await cpu.run(single);
    const split = kernelCall('add', [x, y]);
    const model = new CostModel();
    const records = await runSplit(split, [cpu, webgpu], model, { policy: shares ? 'auto' : _label === 'eager' ? 'eager' : 'auto', shares });
    expectClose(split.output.data, single.output.data, { rtol: 0, atol: 0 });
    // Every index computed exactly once: the ranges tile [0, n).
    const ranges = records.filter((r) => r.ok).map((r) => r.range).sort((a, b) => a.start - b.start);
    expect(ranges[0]!.start).toBe(0);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.start).toBe(ranges[i - 1]!.end);
    expect(ranges.at(-1)!.end).toBe(n);
    expect(new Set(records.map((r) => r.device))).toEqual(new Set(['cpu', 'webgpu:0']));
    // Self-scheduled runs feed the model; a static split runs one chunk a device, its first, which warms up only.
    if (!shares) expect(model.samples('add', 'cpu')).toBeGreaterThan(0);
  });

  it('splits reductions, scans, sorts, matmul rows and user kernels, merging the pieces', async () => {
    const model = new CostModel();
    const x = tensor(random(300_007, 3));
    const sum = kernelCall('sum', [x]);
    await runSplit(sum, [cpu, webgpu], model, { policy: 'auto' });
    expectClose(sum.output.data, [refReduce('sum', x.data)], TOLERANCE.sum(x.data));
    const sorted = kernelCall('sort', [x]);
    await runSplit(sorted, [cpu, webgpu], model, { policy: 'eager' });
    expectClose(sorted.output.data, refSort(x.data), { rtol: 0, atol: 0 });
    const a = tensor(random(517 * 64, 4), [517, 64]);
    const b = tensor(random(64 * 33, 5), [64, 33]);
    const mm = kernelCall('matmul', [a, b]);
    await runSplit(mm, [cpu, webgpu], model, { policy: 'eager' });
    expectClose(mm.output.data, refMatmul(a.data, b.data, 517, 64, 33), TOLERANCE.matmul(64));
    const user = userCall(wave, [0.01], [301, 257]);
    const alone = userCall(wave, [0.01], [301, 257]);
    await cpu.run(alone);
    await runSplit(user, [cpu], model, { policy: 'eager' });
    expectClose(user.output.data, alone.output.data, { rtol: 0, atol: 0 });
  });

  it('finishes on the CPU when the GPU is lost mid-split, with nothing lost or doubled', async () => {
    const lost = new WebGpuBackend();
    await lost.init();
    const n = 4_000_037;
    const x = tensor(random(n, 6));
    const expected = kernelCall('relu', [x]);
    await cpu.run(expected);
    const call = kernelCall('relu', [x]);
    const recorder = new Recorder();
    // Equal fixed shares, so the GPU holds work; its device goes once its input is uploaded, so
    // before its share can be done however fast the GPU (a fixed delay could come too late).
    let destroyed = false;
    const run = lost.run.bind(lost);
    lost.run = (c, r, options) => run(c, r, {
      observe: (e) => {
        options?.observe?.(e);
        if (e.kind === 'upload' && !destroyed) {
          destroyed = true;
          lost.gpuDevice.destroy();
        }
      },
    });
    const records = await runSplit(call, [cpu, lost], new CostModel(), { policy: 'auto', shares: { cpu: 1, 'webgpu:0': 1 } }, recorder);
    expect(destroyed).toBe(true);
    expect(lost.health()).toBe('lost');
    expectClose(call.output.data, expected.output.data, { rtol: 0, atol: 0 });
    const failed = records.filter((r) => !r.ok);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    // Each failed range was redone, once, by the CPU.
    for (const f of failed) {
      const redone = records.filter((r) => r.ok && r.range.start === f.range.start && r.range.end === f.range.end);
      expect(redone.map((r) => r.device)).toEqual(['cpu']);
    }
    expect(recorder.spans().some((s) => s.args.error)).toBe(true);
    await lost.dispose();
  });
});

describe.skipIf(!gpu.available)('a session that plans', () => {
  let td: Tandem;
  const cacheDir = mkdtempSync(join(tmpdir(), 'tandem-costs-'));
  const costCache = join(cacheDir, 'costs.json');
  beforeAll(async () => {
    // eager: split whatever the models say (auto won't split here: the GPU is software, on the same cores).
    td = await Tandem.create({ workers: 2, backends: ['cpu', 'webgpu'], costCache, policy: 'eager' });
  });
  afterAll(() => td?.close());

  it('splits a large op across devices, explains it, traces it, and persists what it learned', async () => {
    const n = 1 << 20;
    const x = tensor(random(n, 7));
    for (let i = 0; i < 3; i++) await td.ops.exp(x).values();
    const text = td.explain();
    expect(text).toMatch(/cpu\s+exp\[/);
    expect(text).toMatch(/webgpu:0\s+exp\[/);
    expect(text).toMatch(/Makespan [\d.]+ ms; the best single device, (cpu|webgpu:0), was predicted to take/);
    const tracePath = join(cacheDir, 'trace.json');
    await td.trace(tracePath);
    const trace = JSON.parse(readFileSync(tracePath, 'utf8')) as { traceEvents: Array<{ name: string; ph: string; args: { name?: string } }> };
    // A process per device (its tracks: calls, workers or queue, transfers; see trace.test.ts).
    expect(trace.traceEvents.filter((e) => e.name === 'process_name').map((e) => e.args.name).sort()).toEqual(['cpu', 'webgpu:0']);
    expect(trace.traceEvents.filter((e) => e.ph === 'X').length).toBeGreaterThan(2);
    await td.close();
    const saved = JSON.parse(readFileSync(costCache, 'utf8')) as { model: { kernels: Record<string, unknown[]> } };
    expect(Object.keys(saved.model.kernels).sort()).toEqual(['exp@cpu', 'exp@webgpu:0']);
    td = await Tandem.create({ workers: 2, backends: ['cpu', 'webgpu'], costCache, policy: 'eager' });
    expect(td.costs.predictKernel('exp', 'cpu', n)).toBeGreaterThan(0);
  });

  it('plans a graph of small ops with HEFT: independent work spreads over devices, chains stay correct', async () => {
    const a = tensor(random(96 * 96, 10), [96, 96]);
    const bs = [11, 12, 13, 14, 15, 16].map((seed) => tensor(random(96 * 96, seed), [96, 96]));
    // Issued in one turn: one graph. Six independent matmuls, then a chain on the first result.
    const products = bs.map((b) => td.ops.matmul(a, b));
    const rectified = td.ops.relu(products[0]!);
    const total = td.ops.sum(td.ops.add(rectified, products[0]!));
    const results = await Promise.all(products.map((p) => p.values()));
    results.forEach((r, i) => expectClose(r, refMatmul(a.data, bs[i]!.data, 96, 96, 96), TOLERANCE.matmul(96)));
    const c = refMatmul(a.data, bs[0]!.data, 96, 96, 96);
    const expected = Array.from(c, (v) => Math.max(0, v) + v);
    expectClose(await total.values(), [refReduce('sum', expected)], TOLERANCE.sum(expected));
    const lines = td.explain().split('\n').filter((l) => /^\s+\S+\s+matmul\b/.test(l));
    expect(new Set(lines.slice(-6).map((l) => l.trim().split(/\s+/)[0]))).toEqual(new Set(['cpu', 'webgpu:0']));
  });

  it('keeps small ops on one device', async () => {
    const x = tensor(random(1000, 8));
    await td.ops.neg(x).values();
    const last = td.explain().split('\n').filter((l) => /^\s+\S+\s+neg\b/.test(l));
    expect(last).toHaveLength(1);
  });

  it('under auto, keeps a large op whole rather than split it between a software GPU and the CPU', async () => {
    await using auto = await Tandem.create({ workers: 2, backends: ['cpu', 'webgpu'], costCache: false });
    const x = tensor(random(1 << 18, 10));
    for (let i = 0; i < 3; i++) await auto.ops.exp(x).values();
    expect(auto.explain()).toMatch(/^Last graph: 1 op, 1 piece:/);
  });

  it('runs only on CPU devices under policy cpu', async () => {
    await using cpuOnly = await Tandem.create({ workers: 2, backends: ['cpu', 'webgpu'], policy: 'cpu', costCache: false });
    const x = tensor(random(1 << 17, 9));
    await cpuOnly.ops.abs(x).values();
    expect(cpuOnly.explain()).not.toMatch(/webgpu:0\s+abs/);
    await expect(Tandem.create({ workers: 1, backends: [], policy: 'fastest' as never })).rejects.toThrow(/policy: expected one of auto, cpu, gpu, eager/);
  });
});
