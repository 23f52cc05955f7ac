/**
 * Re-planning inside a running graph, on real devices: a cost model seeded (through its public
 * API) with a badly wrong model for the GPU makes the first plan put the graph's ops there; the
 * first of them to finish shows the model wrong, and the ops not yet started move.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Tandem, type Tensor } from '@tandem/core';
import { WebGpuBackend } from '../src/webgpu/index.ts';
import { expectClose, gpuOrSkip, random, tensor } from './harness.ts';
// Registers Tandem's backends, as `import '@tandem/backends'` does for a user.
import '../src/index.ts';

const gpu = await gpuOrSkip(async () => {
  const b = new WebGpuBackend();
  await b.init();
  await b.dispose();
});

const N = 4096;

describe.skipIf(!gpu.available)('a graph that re-plans when a measured time is far from its prediction', () => {
  let td: Tandem | undefined;
  afterEach(async () => {
    await td?.close();
    td = undefined;
  });

  // auto: the CPU and a software GPU are one machine, each op to its predicted-fastest device;
  // eager: HEFT places the ops over both devices at once.
  it.each(['auto', 'eager'] as const)('moves the ops not yet started and still computes each op once (%s)', async (policy) => {
    td = await Tandem.create({ workers: 2, backends: ['cpu', 'webgpu'], costCache: false, policy });
    const y = tensor(random(N, 100));
    const xs = Array.from({ length: 8 }, (_, i) => tensor(random(N, i + 1)));
    // The CPU's model is plausible (2 ms; a first sample is the warm-up a model skips);
    // the GPU's is badly wrong: a million times faster than any device runs an add of 4096 elements.
    // The GPU's first real add also compiles its shader: far more than the 1 ms a re-plan needs.
    for (let i = 0; i < 3; i++) td.costs.recordKernel('add', 'cpu', N, 2);
    for (let i = 0; i < 3; i++) td.costs.recordKernel('add', 'webgpu:0', N, 1e-6);
    // And its uploads free (which also spares the session its calibration), so nothing keeps the first plan off it.
    for (const mib of [1, 8]) td.costs.recordTransfer('webgpu:0', mib * 2 ** 20, 1e-6);

    // One graph: eight independent adds, then one op reading two of them.
    const sums: Tensor[] = xs.map((x) => td!.ops.add(x, y));
    const product = td.ops.mul(sums[0]!, sums[1]!);
    const values = await Promise.all(sums.map((s) => s.values()));
    values.forEach((v, i) => expectClose(v, Array.from(xs[i]!.data, (a, j) => Math.fround(a + y.data[j]!)), { rtol: 0, atol: 0 }));
    expectClose(await product.values(), Array.from(values[0]!, (a, j) => Math.fround(a * values[1]![j]!)), { rtol: 0, atol: 0 });

    const replans = td.replans();
    expect(replans.length).toBeGreaterThanOrEqual(1);
    expect(replans[0]!.after).toMatchObject({ kernel: 'add', device: 'webgpu:0' });
    expect(replans[0]!.reason).toBe('slower than predicted');
    expect(replans[0]!.measuredMs).toBeGreaterThan(replans[0]!.predictedMs);
    // Adds the first plan had put on the GPU went to the CPU; a started node never moves.
    const moved = replans[0]!.moved;
    expect(moved.some((m) => m.kernel === 'add' && m.from === 'webgpu:0' && m.to === 'cpu')).toBe(true);
    expect(moved.map((m) => m.node)).not.toContain(replans[0]!.after.node);

    // Each of the nine ops ran exactly once (one piece each), and explain() tells of the re-plans.
    const text = td.explain();
    expect(text).toMatch(/^Last graph: 9 ops, 9 pieces:/);
    expect(text).toMatch(/Re-planned \d+ times? while running:\n\s+after op\d+ \(add on webgpu:0: predicted [\d.]+ ms, measured [\d.]+ ms, slower than predicted\): .*webgpu:0 → cpu/);
  });

  it('does not re-plan a graph with one device to run on: nothing could move', async () => {
    td = await Tandem.create({ workers: 2, backends: ['cpu'], costCache: false });
    const x = tensor(random(N, 1));
    // No model yet: the nominal prediction is surely off, and still there is no other device.
    const outs = Array.from({ length: 4 }, () => td!.ops.neg(x));
    await Promise.all(outs.map((o) => o.values()));
    expect(td.replans()).toEqual([]);
    expect(td.explain()).not.toMatch(/Re-planned/);
  });
});
