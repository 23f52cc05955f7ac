/**
 * The tfjs backend's kernel suite on the webgpu engine (tfjs-backend-webgpu on Dawn). Here that is
 * lavapipe, a software Vulkan driver on 2 CPU cores: cumsum and sort are run below 16M because
 * tfjs's GPU scan and bitonic sort take 18 s (cumsum) and ~490 s (sort) at 16M on it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { DeviceLostError } from '@tandem/core';
import { kernelCall, type RunEvent } from '@tandem/core/backend';
import { TfjsBackend } from '../src/tfjs/index.ts';
import { TOLERANCE, expectClose, gpuOrSkip, random, refMatmul, tensor } from './harness.ts';
import { FULL, kernelSuite } from './fixtures/tfjs/suite.ts';

const gpu = await gpuOrSkip(() => new TfjsBackend({ engine: 'webgpu' }).init());

describe.skipIf(!gpu.available)('tfjs backend, webgpu engine', () => {
  let backend: TfjsBackend;
  beforeAll(async () => {
    backend = new TfjsBackend({ engine: 'webgpu' });
    await backend.init();
  });
  afterAll(() => backend.dispose());
  kernelSuite('webgpu', {
    ...FULL,
    cumsum: 2 ** 20 + 3,
    sort: 2 ** 16 + 1,
    why: 'cumsum at 2^20+3 (16M: 18 s on lavapipe), sort at 2^16+1 (1M: 3.4 s, 16M: ~490 s on lavapipe)',
  }, () => backend);

  it('computes a matmul whose operand and result exceed the largest binding, in blocks', async () => {
    const max = backend.device.limits.maxBindingBytes;
    const [k, n] = [80, 2];
    const m = Math.floor(max / 4 / k) + 4099; // a is past the limit: no single op may bind it
    const a = random(m * k, 31);
    const b = random(k * n, 32);
    const call = kernelCall('matmul', [tensor(a, [m, k]), tensor(b, [k, n])]);
    const t0 = performance.now();
    await backend.run(call);
    console.log(`[tfjs webgpu matmul [${m},${k}]x[${k},${n}] (a: ${(m * k * 4 / 2 ** 20).toFixed(0)} MiB > binding ${max / 2 ** 20} MiB)] ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    expectClose(call.output.data, refMatmul(a, b, m, k, n), TOLERANCE.matmul(k));
  });

  it('rejects an elementwise range past the largest binding, naming the argument', async () => {
    const n = backend.device.limits.maxBindingBytes / 4 + 1;
    const call = kernelCall('neg', [tensor(new Float32Array(n))]);
    await expect(backend.run(call)).rejects.toMatchObject({ code: 'ERR_TANDEM_INVALID_ARGUMENT', argument: 'call.args[0]' });
    await backend.run(call, { start: 0, end: n - 1 }); // a smaller range fits
  });

  // Last: it destroys the thread's tfjs WebGPU device.
  it('after device loss, health() is lost and runs reject fast with DeviceLostError (in flight too)', async () => {
    const x = tensor(random(2 ** 16, 33));
    const inFlight = backend.run(kernelCall('sort', [x]));
    (tf.findBackend('webgpu') as WebGPUBackend).device.destroy();
    await expect(inFlight).rejects.toMatchObject({ code: 'ERR_TANDEM_DEVICE_LOST' });
    expect(backend.health()).toBe('lost');
    // Later runs fail without touching the device: nothing moves, nothing is reported.
    const before = backend.transfers();
    const events: RunEvent[] = [];
    await expect(backend.run(kernelCall('neg', [x]), undefined, { observe: (e) => events.push(e) })).rejects.toBeInstanceOf(DeviceLostError);
    expect(backend.transfers()).toEqual(before);
    expect(events).toEqual([]);
  });
});
