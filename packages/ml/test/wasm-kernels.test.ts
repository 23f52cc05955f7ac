import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmFastMatMul, transposeCosts, unregisterWasmFastMatMul } from '../src/wasm-kernels/matmul.ts';
import { registerWasmMaxPoolGrad, unregisterWasmMaxPoolGrad } from '../src/wasm-kernels/max-pool-grad.ts';
import { leadingAxes, registerWasmLeadingSum, unregisterWasmLeadingSum } from '../src/wasm-kernels/sum.ts';
import { transposeBatches } from '../src/wasm-kernels/transpose.ts';
import { randomValues, relErr, wasmDist } from './fixtures/wasm-compare.ts';

interface Case { batch?: number; m: number; k: number; n: number; ta: boolean; tb: boolean }
const cases: Case[] = [];
// Batch 1 rows, sizes that are not multiples of the SIMD width (4) or of XNNPACK's tiles, and
// the dense layers' shapes of the MLP (784 → 128 → 10) in every transpose combination.
for (const [m, k, n] of [[1, 1, 1], [1, 7, 3], [5, 3, 1], [17, 33, 9], [130, 5, 67], [64, 784, 128], [64, 128, 10]] as const) {
  for (const ta of [false, true]) for (const tb of [false, true]) cases.push({ m, k, n, ta, tb });
}
cases.push({ batch: 3, m: 9, k: 13, n: 6, ta: true, tb: false }, { batch: 2, m: 4, k: 31, n: 5, ta: false, tb: true }, { batch: 2, m: 7, k: 7, n: 7, ta: true, tb: true });

const label = (c: Case) => `${c.batch ? `${c.batch}× ` : ''}[${c.m}×${c.k}]${c.ta ? 'ᵀ' : ''} · [${c.k}×${c.n}]${c.tb ? 'ᵀ' : ''}`;

function product(c: Case, seed: number): Float32Array {
  return tf.tidy(() => {
    const lead = c.batch ? [c.batch] : [];
    const a = tf.tensor(randomValues((c.batch ?? 1) * c.m * c.k, seed), [...lead, ...(c.ta ? [c.k, c.m] : [c.m, c.k])]);
    const b = tf.tensor(randomValues((c.batch ?? 1) * c.k * c.n, seed + 1), [...lead, ...(c.tb ? [c.n, c.k] : [c.k, c.n])]);
    return tf.matMul(a, b, c.ta, c.tb).dataSync() as Float32Array;
  });
}

beforeAll(async () => {
  setWasmPaths(wasmDist);
  expect(await tf.setBackend('wasm')).toBe(true);
});

afterAll(() => {
  unregisterWasmFastMatMul();
  unregisterWasmLeadingSum();
  unregisterWasmMaxPoolGrad();
});

describe('wasm BatchMatMul with transposed operands', () => {
  it('replaces the native kernel once, and unregistering puts the native one back', () => {
    const native = tf.getKernel('BatchMatMul', 'wasm');
    expect(registerWasmFastMatMul()).toBe(true);
    const ours = tf.getKernel('BatchMatMul', 'wasm');
    expect(ours).not.toBe(native);
    expect(registerWasmFastMatMul()).toBe(true);
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(ours);
    unregisterWasmFastMatMul();
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(native);
  });

  it.each(cases)('$# %s matches tfjs-backend-cpu within 1e-5 of the result scale', async (c) => {
    await tf.setBackend('cpu');
    const want = product(c, 11);
    await tf.setBackend('wasm');
    registerWasmFastMatMul();
    const got = product(c, 11);
    expect(relErr(got, want), label(c)).toBeLessThan(1e-5);
  });

  it('copies the smaller side: a batch of inputs stays where it is, a small operand or result is copied instead', () => {
    // dW = xᵀ·dy at batch 1024 of MNIST rows: copying x (800k) beats putting it on the right, where XNNPACK packs it.
    const dw = transposeCosts([1024, 784], [1024, 128], true, false);
    expect(dw.operands).toBeLessThan(dw.swapped);
    // A row times a big transposed matrix: (b·aᵀ)ᵀ copies only the row and the result.
    const row = transposeCosts([1, 784], [4096, 784], false, true);
    expect(row.swapped).toBeLessThan(row.operands);
    // Both transposed: (b·a)ᵀ copies just the result.
    const both = transposeCosts([64, 32], [16, 64], true, true);
    expect(both).toEqual({ operands: 64 * 32 + 16 * 64 + 3 * 16 * 64, swapped: 32 * 16 + 3 * 64 * 32 });
  });

  it('frees the transposed copies it makes: no data is left behind on the wasm heap', async () => {
    await tf.setBackend('wasm');
    registerWasmFastMatMul();
    const a = tf.tensor(randomValues(40 * 30, 3), [40, 30]);
    const b = tf.tensor(randomValues(50 * 40, 4), [50, 40]);
    const before = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) tf.matMul(a, b, true, true).dispose();
    expect(tf.engine().backend.numDataIds()).toBe(before);
    tf.dispose([a, b]);
  });

  it('gives a dense layer the same gradients as tfjs-backend-cpu', async () => {
    const grads = () => tf.tidy(() => {
      const x = tf.tensor(randomValues(33 * 20, 5), [33, 20]);
      const w = tf.tensor(randomValues(20 * 7, 6), [20, 7]);
      const [dx, dw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.relu(tf.matMul(xx, ww))))([x, w]);
      return [dx!.dataSync() as Float32Array, dw!.dataSync() as Float32Array];
    });
    await tf.setBackend('cpu');
    const want = grads();
    await tf.setBackend('wasm');
    registerWasmFastMatMul();
    const got = grads();
    expect(relErr(got[0]!, want[0]!)).toBeLessThan(1e-5);
    expect(relErr(got[1]!, want[1]!)).toBeLessThan(1e-5);
  });
});

describe('tiled transpose', () => {
  it.each([[1, 1, 1], [1, 5, 3], [2, 9, 17], [3, 8, 8], [1, 33, 1]])('batch %i of [%i × %i] matches the element-wise definition', (batch, rows, cols) => {
    const src = randomValues(batch * rows * cols, 7);
    const dst = new Float32Array(src.length);
    transposeBatches(src, dst, batch, rows, cols);
    for (let b = 0; b < batch; b++) {
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expect(dst[b * rows * cols + c * rows + r]).toBe(src[b * rows * cols + r * cols + c]);
    }
  });
});

describe('wasm Sum over leading axes', () => {
  it('recognises only a prefix of the axes that leaves some axis', () => {
    expect(leadingAxes([0], 2)).toBe(1);
    expect(leadingAxes([1, 0], 3)).toBe(2);
    expect(leadingAxes([0, 1], 2)).toBe(0); // every axis: the native kernel's innermost case
    expect(leadingAxes([1], 2)).toBe(0);
    expect(leadingAxes([0, 2], 3)).toBe(0);
    expect(leadingAxes([], 2)).toBe(0);
  });

  const sums: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { shape: [1024, 128], axis: 0, keepDims: false }, // a bias gradient
    { shape: [4, 6, 6, 6], axis: [0, 1, 2], keepDims: false }, // a conv bias gradient: columns in fours and two more
    { shape: [1, 7], axis: 0, keepDims: false },
    { shape: [5, 3, 9], axis: [0, 1], keepDims: true },
    { shape: [4, 6, 2], axis: 0, keepDims: false },
    { shape: [33, 5], axis: -1, keepDims: false }, // innermost: native
    { shape: [6, 4, 3], axis: [0, 2], keepDims: false }, // not a prefix: native
    { shape: [0, 3], axis: 0, keepDims: false }, // no rows: zeros
  ];

  it.each(sums)('matches tfjs-backend-cpu within 1e-6 of the result scale: %o', async ({ shape, axis, keepDims }) => {
    const run = () => tf.tidy(() => {
      const x = tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), 9), shape);
      const y = tf.sum(x, axis, keepDims);
      return { shape: y.shape, values: y.dataSync() as Float32Array };
    });
    await tf.setBackend('cpu');
    const want = run();
    await tf.setBackend('wasm');
    expect(registerWasmLeadingSum()).toBe(true);
    const got = run();
    expect(got.shape).toEqual(want.shape);
    expect(relErr(got.values, want.values)).toBeLessThan(1e-6);
  });

  it('leaves integer sums to the native kernel', async () => {
    await tf.setBackend('wasm');
    registerWasmLeadingSum();
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32');
    const y = tf.sum(x, 0);
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.dataSync())).toEqual([9, 12]);
    tf.dispose([x, y]);
  });

  it('replaces the native kernel once, and unregistering puts the native one back', async () => {
    await tf.setBackend('wasm');
    unregisterWasmLeadingSum();
    const native = tf.getKernel('Sum', 'wasm');
    expect(registerWasmLeadingSum()).toBe(true);
    expect(registerWasmLeadingSum()).toBe(true);
    expect(tf.getKernel('Sum', 'wasm')).not.toBe(native);
    unregisterWasmLeadingSum();
    expect(tf.getKernel('Sum', 'wasm')).toBe(native);
  });
});

interface PoolCase { shape: [number, number, number, number]; size: number | [number, number]; stride: number; pad: 'valid' | 'same' }
const poolCases: PoolCase[] = [
  { shape: [2, 24, 24, 16], size: 2, stride: 2, pad: 'valid' },   // the CNN's first pool
  { shape: [1, 9, 7, 3], size: 2, stride: 2, pad: 'valid' },      // ragged edges left out
  { shape: [2, 9, 7, 3], size: 3, stride: 2, pad: 'same' },       // overlapping windows, padding
  { shape: [1, 5, 6, 1], size: [2, 3], stride: 1, pad: 'valid' }, // overlapping, non-square
  { shape: [3, 4, 4, 5], size: 4, stride: 4, pad: 'same' },       // one window per image
];

function poolGrad(c: PoolCase, seed: number, ties: boolean): Float32Array {
  return tf.tidy(() => {
    const n = c.shape.reduce((a, b) => a * b, 1);
    // With ties: small integers and zeros, as after a ReLU, so windows often hold equal maxima.
    const values = ties ? randomValues(n, seed).map((v) => Math.max(0, Math.round(v * 2))) : randomValues(n, seed);
    const x = tf.tensor4d(values, c.shape);
    const outShape = tf.maxPool(x, c.size, c.stride, c.pad).shape;
    const g = tf.tensor(randomValues(outShape.reduce((a, b) => a * b, 1), seed + 1), outShape);
    return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, c.size, c.stride, c.pad), g)))(x).dataSync() as Float32Array;
  });
}

describe('wasm MaxPoolGrad', () => {
  it('replaces the native kernel once, and unregistering puts the native one back', async () => {
    await tf.setBackend('wasm');
    const native = tf.getKernel('MaxPoolGrad', 'wasm');
    expect(registerWasmMaxPoolGrad()).toBe(true);
    const ours = tf.getKernel('MaxPoolGrad', 'wasm');
    expect(ours).not.toBe(native);
    unregisterWasmMaxPoolGrad();
    expect(tf.getKernel('MaxPoolGrad', 'wasm')).toBe(native);
  });

  for (const ties of [false, true]) {
    it.each(poolCases)(`matches tfjs-backend-cpu exactly${ties ? ', with tied maxima' : ''}: %o`, async (c) => {
      await tf.setBackend('cpu');
      const want = poolGrad(c, 21, ties);
      await tf.setBackend('wasm');
      registerWasmMaxPoolGrad();
      const got = poolGrad(c, 21, ties);
      expect(got).toEqual(want);
    });
  }
});
