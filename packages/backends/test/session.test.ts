import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, Tandem, Tensor, kernel } from '@tandem/core';
import { WebGpuBackend } from '../src/webgpu/index.ts';
import { expectClose, gpuOrSkip, random, refMatmul, refReduce, tensor, TOLERANCE } from './harness.ts';
// Registers Tandem's backends, as `import '@tandem/backends'` does for a user.
import '../src/index.ts';

// Learned costs go to a directory of this file's own, never the user's ~/.cache/tandem.
const cacheDir = mkdtempSync(join(tmpdir(), 'tandem-session-test-'));
const costCache = (name: string) => join(cacheDir, `${name}.json`);
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const saxpy = kernel('saxpy', function (x: number[], y: number[], a: number) {
  return a * x[this.thread.x]! + y[this.thread.x]!;
});

const blur = kernel('blur', function (img: number[][]) {
  const w = this.output.x;
  const h = this.output.y;
  let acc = 0;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const y = Math.min(h - 1, Math.max(0, this.thread.y + dy));
      const x = Math.min(w - 1, Math.max(0, this.thread.x + dx));
      acc += img[y]![x]!;
    }
  }
  return acc / 9;
});

describe('a cpu-only session', () => {
  let td: Tandem;
  beforeAll(async () => {
    td = await Tandem.create({ workers: 2, backends: ['cpu'], costCache: costCache('cpu') });
  });
  afterAll(() => td.close());

  it('drives only the devices it was asked for', () => {
    expect(td.devices().map((d) => d.id)).toEqual(['cpu']);
  });

  it('chains ops: each waits for the tensors it reads', async () => {
    const a = tensor(random(64 * 32, 1), [64, 32]);
    const b = tensor(random(32 * 16, 2), [32, 16]);
    const c = td.ops.matmul(a, b);
    const s = td.ops.sum(td.ops.relu(c));
    const expected = refMatmul(a.data, b.data, 64, 32, 16);
    expectClose(await c.values(), expected, TOLERANCE.matmul(32));
    const relu = Array.from(expected, (v) => Math.max(0, v));
    expectClose(await s.values(), [refReduce('sum', relu)], TOLERANCE.sum(relu));
  });

  it('rejects bad input at the call, naming the argument', () => {
    const a = Tensor.zeros([4, 3]);
    expect(() => td.ops.matmul(a, Tensor.zeros([4, 2]))).toThrow(/args\[1\]\.shape: expected \[3, n\]/);
    expect(() => td.ops.relu(Tensor.zeros([4], 'int32'))).toThrow(/args\[0\]\.dtype: expected float32/);
    expect(() => td.ops.add(a, Tensor.zeros([3, 4]))).toThrow(ArgumentError);
    expect(() => td.ops.histogram(Tensor.zeros([4]), { bins: 0, lo: 0, hi: 1 })).toThrow(/params\.bins/);
    expect(() => td.ops.relu(a, { device: 'webgpu' })).toThrow(/options\.device: expected a healthy device of this session that runs kernel 'relu' \(cpu\)/);
  });

  it('runs a user kernel in the workers', async () => {
    const n = 10_001;
    const x = random(n, 3);
    const y = random(n, 4);
    const out = await td.map(saxpy, [x, y, 2], { output: [n] });
    expectClose(out.data, Array.from(x, (v, i) => Math.fround(2 * v + y[i]!)), TOLERANCE.elementwise);
  });
});

describe('bad session options', () => {
  it('names an unknown backend', async () => {
    await expect(Tandem.create({ workers: 1, backends: ['cuda' as never], costCache: false })).rejects.toThrow(/cuda: no backend named 'cuda' is registered \(registered: cpu, webgpu, gpujs, tfjs\)/);
  });
});

describe('one kernel source on the CPU and the GPU', async () => {
  const gpu = await gpuOrSkip(async () => {
    const b = new WebGpuBackend();
    await b.init();
    await b.dispose();
  });
  let td: Tandem;
  beforeAll(async () => {
    if (gpu.available) td = await Tandem.create({ workers: 2, backends: ['cpu', 'gpujs', 'webgpu'], costCache: costCache('cpu-gpus') });
  });
  afterAll(() => td?.close());

  it.skipIf(!gpu.available)('gives the same answer on cpu and gpujs (1-D)', async () => {
    const n = 4099;
    const x = random(n, 5);
    const y = random(n, 6);
    const onCpu = await td.map(saxpy, [x, y, 3], { output: [n], device: 'cpu' });
    const onGpu = await td.map(saxpy, [x, y, 3], { output: [n], device: 'gpujs' });
    expectClose(onGpu.data, onCpu.data, TOLERANCE.elementwise);
  });

  it.skipIf(!gpu.available)('gives the same answer on cpu and gpujs (2-D)', async () => {
    const img = tensor(random(37 * 53, 7, 0, 1), [37, 53]);
    const onCpu = await td.map(blur, [img], { output: [53, 37], device: 'cpu' });
    const onGpu = await td.map(blur, [img], { output: [53, 37], device: 'gpujs' });
    expect(onGpu.shape).toEqual([37, 53]);
    expectClose(onGpu.data, onCpu.data, TOLERANCE.elementwise);
  });

  it.skipIf(!gpu.available)('runs ops on the device asked for, with the same results', async () => {
    const a = tensor(random(128 * 64, 8), [128, 64]);
    const b = tensor(random(64 * 32, 9), [64, 32]);
    const onCpu = await td.ops.matmul(a, b, { device: 'cpu' }).values();
    const onGpu = await td.ops.matmul(a, b, { device: 'webgpu:0' }).values();
    expectClose(onGpu, onCpu, TOLERANCE.matmul(64));
    expect(td.devices().map((d) => d.id)).toEqual(['cpu', 'gpujs:0', 'webgpu:0']);
  });
});
