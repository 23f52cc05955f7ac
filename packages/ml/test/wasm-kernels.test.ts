import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmFastMatMul, unregisterWasmFastMatMul } from '../src/wasm-kernels/matmul.ts';
import { registerWasmMaxPoolGrad, unregisterWasmMaxPoolGrad } from '../src/wasm-kernels/max-pool-grad.ts';
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
