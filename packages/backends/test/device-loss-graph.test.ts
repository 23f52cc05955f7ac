/**
 * A GPU lost in the middle of an op the planner placed on it alone (not split): under `auto` the
 * op re-runs on a healthy device, once, into its output; the lost device is left out of later
 * plans. A device the user named keeps failing with DeviceLostError. On real devices: the cost
 * model is seeded through its public API so the plan puts the ops on the GPU, and the GPU's own
 * device is destroyed when the op starts on it (its first command encoder), never after a guess
 * of how long to wait.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeviceLostError, Tandem, kernel } from '@tandem/core';
import { dawn } from '../src/dawn.ts';
import { WebGpuBackend } from '../src/webgpu/index.ts';
import { disarmGpuLoss, favourGpu, loseGpuWhenOpStarts } from './fixtures/lose-gpu.ts';
import { gpuOrSkip, random, tensor } from './harness.ts';
// Registers Tandem's backends, as `import '@tandem/backends'` does for a user.
import '../src/index.ts';

const gpu = await gpuOrSkip(async () => {
  const b = new WebGpuBackend();
  await b.init();
  await b.dispose();
});

/** Under the split threshold, so each op runs whole on one device. */
const N = 4096;

beforeAll(async () => {
  if (gpu.available) await dawn();
});

/** The piece lines of `explain()`: device and task name of each run of the last graph, failed or not. */
function pieces(text: string): Array<{ device: string; task: string; failed: boolean }> {
  const lines = text.split('\n');
  const end = lines.indexOf('By kernel and device:');
  return lines.slice(2, end).map((l) => {
    const [device, task] = l.trim().split(/\s+/) as [string, string];
    return { device, task, failed: l.includes('FAILED') };
  });
}

const saxpy = kernel('loss_saxpy', function (x: number[], y: number[], a: number) {
  return a * x[this.thread.x]! + y[this.thread.x]!;
});

describe.skipIf(!gpu.available)('a single-device op whose GPU is lost mid-run', () => {
  let td: Tandem | undefined;
  afterEach(async () => {
    disarmGpuLoss();
    await td?.close();
    td = undefined;
  });

  it('webgpu: graph ops re-run once on the CPU, exactly, and later ops avoid the lost GPU', async () => {
    td = await Tandem.create({ workers: 2, backends: ['cpu', 'webgpu'], costCache: false });
    favourGpu(td, 'add', 'webgpu:0', N);
    favourGpu(td, 'mul', 'webgpu:0', N);
    const x = tensor(random(N, 1));
    const y = tensor(random(N, 2));

    const lost = loseGpuWhenOpStarts();
    // One graph: the add (placed on the GPU, which dies under it), then a mul that reads it.
    const sum = td.ops.add(x, y);
    const product = td.ops.mul(sum, y);
    const [s, p] = await Promise.all([sum.values(), product.values()]);
    await lost;
    const expectedSum = Array.from(x.data, (a, i) => Math.fround(a + y.data[i]!));
    expect(Array.from(s)).toEqual(expectedSum);
    expect(Array.from(p)).toEqual(expectedSum.map((a, i) => Math.fround(a * y.data[i]!)));

    // The add failed once on the GPU and ran once, whole, on the CPU; the mul ran once, on the CPU.
    const ran = pieces(td.explain());
    expect(ran.filter((r) => r.failed)).toEqual([{ device: 'webgpu:0', task: 'add', failed: true }]);
    expect(ran.filter((r) => !r.failed)).toEqual([{ device: 'cpu', task: 'add', failed: false }, { device: 'cpu', task: 'mul', failed: false }]);
    const replan = td.replans().find((r) => r.reason === 'device lost');
    expect(replan?.after).toMatchObject({ kernel: 'add', device: 'webgpu:0' });
    expect(replan?.moved).toEqual(expect.arrayContaining([expect.objectContaining({ kernel: 'add', from: 'webgpu:0', to: 'cpu' })]));

    // A later graph plans without the lost device, whatever its model says.
    const again = td.ops.add(x, y);
    expect(Array.from(await again.values())).toEqual(expectedSum);
    expect(pieces(td.explain())).toEqual([{ device: 'cpu', task: 'add', failed: false }]);
  });

  it('webgpu named by the user: the op fails with DeviceLostError, it is not moved', async () => {
    td = await Tandem.create({ workers: 2, backends: ['cpu', 'webgpu'], costCache: false });
    const x = tensor(random(N, 3));
    const lost = loseGpuWhenOpStarts();
    await expect(td.ops.neg(x, { device: 'webgpu' }).values()).rejects.toBeInstanceOf(DeviceLostError);
    await lost;
    expect(pieces(td.explain()).filter((r) => !r.failed)).toEqual([]);
  });

  // Last: destroys gpu.js's device, which every gpu.js instance on this thread shares.
  it('gpujs: a user kernel (td.map) re-runs once on the CPU, exactly', async () => {
    td = await Tandem.create({ workers: 2, backends: ['cpu', 'gpujs'], costCache: false });
    favourGpu(td, 'user:loss_saxpy', 'gpujs:0', N);
    const x = tensor(random(N, 4));
    const y = tensor(random(N, 5));
    const lost = loseGpuWhenOpStarts();
    const out = await td.map(saxpy, [x, y, 2], { output: [N] });
    await lost;
    expect(Array.from(out.data)).toEqual(Array.from(x.data, (a, i) => Math.fround(2 * a + y.data[i]!)));
    const ran = pieces(td.explain());
    expect(ran.filter((r) => r.failed)).toEqual([{ device: 'gpujs:0', task: 'user:loss_saxpy', failed: true }]);
    expect(ran.filter((r) => !r.failed)).toEqual([{ device: 'cpu', task: 'user:loss_saxpy', failed: false }]);
    expect(td.devices().map((d) => d.id)).toContain('gpujs:0');
  });
});
