/**
 * A kernel of a backend's own: registered with `registerKernel`, run by the session through
 * `td.ops.call` on the one backend that supports it, and refused clearly by the cpu and webgpu
 * backends, which don't.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, BackendUnavailableError, Tandem, Tensor, WorkerPool } from '@tandem/core';
import { kernelCall, registerBackend, type Backend, registeredKernels, unregisterBackend, unregisterKernel } from '@tandem/core/backend';
import { CpuBackend } from '../src/cpu/index.ts';
import { WebGpuBackend } from '../src/webgpu/index.ts';
import { Scale2Backend, registerScale2 } from './fixtures/scale2-backend.ts';
import { gpuOrSkip, random, tensor } from './harness.ts';
// Registers Tandem's backends, as `import '@tandem/backends'` does for a user.
import '../src/index.ts';

let made: Scale2Backend | undefined;
beforeAll(() => {
  registerScale2();
  registerBackend({ name: 'scale2dev', create: () => (made = new Scale2Backend('scale2dev')) });
});
afterAll(() => {
  unregisterBackend('scale2dev');
  unregisterKernel('scale2');
});

describe('a kernel a backend registers', () => {
  it('joins the registry beside the built-ins', () => {
    expect(registeredKernels()).toEqual(expect.arrayContaining(['matmul', 'user', 'scale2']));
  });

  it('runs through td.ops.call, placed by the planner on the backend that supports it', async () => {
    await using td = await Tandem.create({ workers: 2, backends: ['cpu', 'scale2dev'], costCache: false });
    const values = random(4099, 3);
    const y = td.ops.call('scale2', [tensor(values)]);
    const out = await y.values();
    expect(Array.from(out)).toEqual(Array.from(values, (v) => Math.fround(2 * v)));
    expect(made!.ranges.reduce((n, r) => n + r.end - r.start, 0)).toBe(values.length);
    // Chained with a built-in, it feeds the cpu's add like any tensor.
    const z = await td.ops.add(td.ops.call('scale2', [tensor([1, 2, 3])]), 1).values();
    expect(Array.from(z)).toEqual([3, 5, 7]);
  });

  it('is refused at the call when its arguments break the spec or no device runs it', async () => {
    await using td = await Tandem.create({ workers: 1, backends: ['cpu', 'scale2dev'], costCache: false });
    expect(() => td.ops.call('scale2', [tensor([1]), tensor([2])])).toThrow(ArgumentError);
    expect(() => td.ops.call('scale2', [Tensor.from([1, 2], [2], 'int32')])).toThrow(/args\[0\]\.dtype.*kernel 'scale2' supports float32 only/);
    expect(() => td.ops.call('scale3', [tensor([1])])).toThrow(/a registered kernel \(.*scale2.*\)/);
    expect(() => td.ops.call('scale2', [tensor([1])], { device: 'cpu' })).toThrow(/options\.device.*kernel 'scale2'/);
    await using cpuOnly = await Tandem.create({ workers: 1, backends: ['cpu'], costCache: false });
    expect(() => cpuOnly.ops.call('scale2', [tensor([1])])).toThrow(BackendUnavailableError);
  });

  it('is refused by the cpu backend, which does not support it, naming the kernel', async () => {
    const pool = new WorkerPool({ workers: 1 });
    try {
      const cpu = new CpuBackend(pool);
      await cpu.init();
      await expectRefused(cpu);
    } finally {
      await pool.destroy();
    }
  });

  it('is refused by the webgpu backend, which does not support it, naming the kernel', async (ctx) => {
    const gpu = new WebGpuBackend();
    try {
      if (!(await gpuOrSkip(() => gpu.init())).available) return ctx.skip();
      await expectRefused(gpu);
    } finally {
      await gpu.dispose();
    }
  });
});

/** `backend` lacks scale2, says so in supports(), and its run refuses the call naming the kernel. */
async function expectRefused(backend: Backend): Promise<void> {
  expect(backend.supports('scale2')).toBe(false);
  await expect(backend.run(kernelCall('scale2', [tensor([1, 2])]))).rejects.toMatchObject({
    argument: 'call.kernel',
    message: expect.stringMatching(new RegExp(`${backend.name}\\.supports\\('scale2'\\) is false`)),
  });
}
