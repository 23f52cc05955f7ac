/**
 * Calibration on first use: a large op whose kernel no device has a model for is first sampled,
 * in a few small slices, on every device that could run it; the plan then rests on those
 * measurements, and the next op of the kernel needs none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kernel, Tandem } from '@tandem/core';
import { createBackend } from '../src/index.ts';
import { gpuOrSkip } from './harness.ts';

const gpu = await gpuOrSkip(async () => {
  const b = await createBackend('gpujs');
  await b.init();
  await b.dispose();
});

const ROWS = 1024;
const COLS = 256;
// Work per row grows with the row (like a Mandelbrot image's middle rows): a sample from one end would mislead.
const rowWork = kernel('rowWork', function (this: { thread: { x: number; y: number } }) {
  let s = 0;
  for (let i = 0; i < this.thread.y; i++) s += Math.sin(i + this.thread.x) * 0.001;
  return s;
});

describe('calibration of a kernel on first use', () => {
  let td: Tandem | undefined;
  afterEach(async () => {
    await td?.close();
    td = undefined;
  });

  it.skipIf(!gpu.available)('samples every unmeasured device in spread slices before placing a large op, once', async () => {
    td = await Tandem.create({ workers: 2, backends: ['cpu', 'gpujs'], costCache: false });
    const first = await td.map(rowWork, [], { output: [COLS, ROWS] });
    const trace = td.explain();
    const calibrations = trace.split('\n').filter((l) => l.includes('user:rowWork (calibration)'));
    expect(calibrations.filter((l) => l.trim().startsWith('cpu'))).toHaveLength(3);
    expect(calibrations.filter((l) => l.trim().startsWith('gpujs:0'))).toHaveLength(3);
    // Both devices now have a model of the kernel at the full size: the placement was a choice, not a guess.
    const extent = ROWS * COLS;
    expect(td.costs.predictKernel('user:rowWork', 'cpu', extent)).toBeGreaterThan(0);
    expect(td.costs.predictKernel('user:rowWork', 'gpujs:0', extent)).toBeGreaterThan(0);
    // The whole output is right, calibration slices included (they are real elements, written again).
    const values = await first.values();
    for (const y of [0, 1, ROWS / 2, ROWS - 1]) {
      let s = 0;
      for (let i = 0; i < y; i++) s += Math.sin(i + 7) * 0.001;
      expect(values[y * COLS + 7]).toBeCloseTo(s, 3);
    }
    await td.map(rowWork, [], { output: [COLS, ROWS] });
    expect(td.explain()).not.toMatch(/calibration/);
  });
});
