/**
 * Calibration on first use: a large op whose kernel no device has a model for is first sampled,
 * in a few small slices, on every device that could run it; the plan then rests on those
 * measurements, and the next op of the kernel needs none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kernel, Tandem } from '@tandem/core';
import { createBackend } from '../src/index.ts';
import { expectClose, gpuOrSkip } from './harness.ts';

const gpu = await gpuOrSkip(async () => {
  const b = await createBackend('gpujs');
  await b.init();
  await b.dispose();
});

// Past 1000 rows on purpose: gpu.js's WebGPU code once ended loops with a run-time bound after
// 1000 iterations (its LOOP_MAX), silently; the gpujs backend now runs them to their bound.
const ROWS = 1024;
const COLS = 256;
// Work per row grows with the row (like a Mandelbrot image's middle rows): a sample from one end would mislead.
const rowWork = kernel('rowWork', function (this: { thread: { x: number; y: number } }) {
  let s = 0;
  for (let i = 0; i < this.thread.y; i++) s += Math.sin(i + this.thread.x) * 0.001;
  return s;
});

/** rowWork in float64: row y is row y - 1 plus one term, so the whole image costs ROWS·COLS sines. */
function rowWorkReference(): Float64Array {
  const out = new Float64Array(ROWS * COLS);
  for (let y = 1; y < ROWS; y++) {
    for (let x = 0; x < COLS; x++) out[y * COLS + x] = out[(y - 1) * COLS + x]! + Math.sin(y - 1 + x) * 0.001;
  }
  return out;
}

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
    // Values are of order 1e-3 and below: a relative bound, with an absolute floor for sums near 0.
    expectClose(await first.values(), rowWorkReference(), { rtol: 1e-4, atol: 1e-7 });
    await td.map(rowWork, [], { output: [COLS, ROWS] });
    expect(td.explain()).not.toMatch(/calibration/);
  });
});
