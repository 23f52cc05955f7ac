import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerWasmConvGradients, unregisterWasmConvGradients } from '../src/wasm-grads/index.ts';
import { col2im, windowTaps } from '../src/wasm-grads/col2im.ts';
import { im2colTransposed, insideRange } from '../src/wasm-grads/im2col.ts';
import { randomValues, relErr, wasmDist } from './fixtures/wasm-compare.ts';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case { batch: number; h: number; w: number; inC: number; outC: number; k: number; stride: number; pad: Pad }

/** Gradients of sum(conv2d(x, f) * g) w.r.t. x and f (i.e. Conv2DBackpropInput / Conv2DBackpropFilter with dy = g), on the current backend. */
function convGrads(c: Case, seed: number): { dx: Float32Array; df: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(randomValues(c.batch * c.h * c.w * c.inC, seed), [c.batch, c.h, c.w, c.inC]);
    const f = tf.tensor4d(randomValues(c.k * c.k * c.inC * c.outC, seed + 1), [c.k, c.k, c.inC, c.outC]);
    const outShape = tf.conv2d(x, f, c.stride, c.pad).shape;
    const g = tf.tensor(randomValues(outShape.reduce((a, b) => a * b, 1), seed + 2), outShape);
    const [dx, df] = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(tf.conv2d(t[0] as tf.Tensor4D, t[1] as tf.Tensor4D, c.stride, c.pad), g)))([x, f]);
    return { dx: dx!.dataSync() as Float32Array, df: df!.dataSync() as Float32Array };
  });
}

const cases: Case[] = [];
for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as const) for (const inC of [1, 3]) {
  cases.push({ batch: 2, h: 9, w: 7, inC, outC: 4, k: 3, stride, pad });
}
cases.push({ batch: 3, h: 8, w: 8, inC: 3, outC: 5, k: 2, stride: 2, pad: 'same' }); // even kernel, asymmetric 'same' padding
cases.push({ batch: 1, h: 6, w: 10, inC: 2, outC: 3, k: 3, stride: 1, pad: [[0, 0], [2, 1], [0, 2], [0, 0]] }); // explicit padding
cases.push({ batch: 2, h: 11, w: 11, inC: 3, outC: 2, k: 5, stride: 3, pad: 'valid' });
// Channel counts the im2col gathers four at a time (8), and in fours plus single ones (6, 5).
for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as const) cases.push({ batch: 2, h: 9, w: 7, inC: 6, outC: 5, k: 3, stride, pad });
cases.push({ batch: 1, h: 10, w: 9, inC: 8, outC: 3, k: 5, stride: 2, pad: 'same' });
cases.push({ batch: 1, h: 5, w: 1, inC: 5, outC: 3, k: 3, stride: 1, pad: 'same' }); // a one-pixel-wide input: some taps miss every output
cases.push({ batch: 2, h: 8, w: 7, inC: 4, outC: 3, k: 2, stride: 3, pad: 'valid' }); // stride above the kernel: inputs no window covers

const label = (c: Case) => `${c.batch}x${c.h}x${c.w}x${c.inC} → ${c.outC}, k${c.k} s${c.stride} ${typeof c.pad === 'string' ? c.pad : 'explicit'}`;

beforeAll(async () => {
  setWasmPaths(wasmDist);
  expect(await tf.setBackend('wasm')).toBe(true);
});

afterAll(() => {
  unregisterWasmConvGradients();
});

describe('wasm conv gradients', () => {
  it("fills the gap: without it tf.grad of conv2d's filter fails on wasm", async () => {
    unregisterWasmConvGradients();
    await tf.setBackend('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(() => convGrads(cases[0]!, 1)).toThrow(/Conv2DBackpropFilter.*not registered/);
    expect(registerWasmConvGradients()).toEqual(['Conv2DBackpropFilter']);
    expect(() => convGrads(cases[0]!, 1)).not.toThrow();
  });

  it('matches tfjs-backend-cpu (Conv2DBackpropFilter ours, Conv2DBackpropInput native and ours)', async () => {
    registerWasmConvGradients();
    const results: string[] = [];
    for (const [i, c] of cases.entries()) {
      await tf.setBackend('cpu');
      const ref = convGrads(c, 10 * i + 1);
      await tf.setBackend('wasm');
      unregisterWasmConvGradients();
      registerWasmConvGradients();
      const native = convGrads(c, 10 * i + 1); // our filter kernel + wasm's own input kernel
      unregisterWasmConvGradients();
      expect(registerWasmConvGradients({ override: true }).sort()).toEqual(['Conv2DBackpropFilter', 'Conv2DBackpropInput']);
      const js = convGrads(c, 10 * i + 1); // both kernels ours
      const errs = [relErr(native.df, ref.df), relErr(native.dx, ref.dx), relErr(js.df, ref.df), relErr(js.dx, ref.dx)];
      results.push(`${label(c)}: ${errs.map((e) => e.toExponential(1)).join(' ')}`);
      for (const e of errs) expect(e, label(c)).toBeLessThan(1e-4);
    }
    unregisterWasmConvGradients();
    registerWasmConvGradients();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.setupFunc).toBeDefined(); // the native one is back
    expect(results).toHaveLength(cases.length);
    if (process.env.WASM_GRADS_VERBOSE) console.info(results.join("\n"));
  });

  it('matches tfjs-backend-cpu on channels-first (NCHW) data too, kernel by kernel', async () => {
    registerWasmConvGradients({ override: true });
    const run = (name: 'Conv2DBackpropFilter' | 'Conv2DBackpropInput', c: Case, seed: number): Float32Array => tf.tidy(() => {
      const x = tf.tensor4d(randomValues(c.batch * c.inC * c.h * c.w, seed), [c.batch, c.inC, c.h, c.w]);
      const filterShape: [number, number, number, number] = [c.k, c.k, c.inC, c.outC];
      const f = tf.tensor4d(randomValues(c.k * c.k * c.inC * c.outC, seed + 1), filterShape);
      const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, c.stride, 1, c.pad as 'same' | 'valid', undefined, false, 'channelsFirst');
      const dy = tf.tensor4d(randomValues(info.outShape.reduce((a, b) => a * b, 1), seed + 2), info.outShape);
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NCHW', dimRoundingMode: undefined } as never;
      const out = name === 'Conv2DBackpropFilter'
        ? tf.engine().runKernel(name, { x, dy }, { ...(attrs as object), filterShape } as never)
        : tf.engine().runKernel(name, { dy, filter: f }, { ...(attrs as object), inputShape: x.shape } as never);
      return (out as tf.Tensor).dataSync() as Float32Array;
    });
    for (const [i, c] of cases.filter((c) => typeof c.pad === 'string').entries()) {
      for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput'] as const) {
        await tf.setBackend('cpu');
        const ref = run(name, c, 10 * i + 3);
        await tf.setBackend('wasm');
        expect(relErr(run(name, c, 10 * i + 3), ref), `${name} NCHW ${label(c)}`).toBeLessThan(1e-4);
      }
    }
    unregisterWasmConvGradients();
  });

  it('registering twice is harmless: same kernels, no "already registered" warning', async () => {
    await tf.setBackend('wasm');
    const warn = vi.spyOn(console, 'warn');
    try {
      const first = registerWasmConvGradients();
      const kernel = tf.getKernel('Conv2DBackpropFilter', 'wasm');
      const second = registerWasmConvGradients();
      expect(second).toEqual(first);
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBe(kernel);
      expect(warn.mock.calls.filter((args) => String(args[0]).includes('already registered'))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
    const c = cases[1]!;
    const a = convGrads(c, 5);
    registerWasmConvGradients();
    const b = convGrads(c, 5);
    expect(a.df).toEqual(b.df);
    expect(a.dx).toEqual(b.dx);
  });

  it('trains a small CNN (conv → relu → maxPool ×2 → dense softmax) on wasm; loss goes down', async () => {
    registerWasmConvGradients();
    await tf.setBackend('wasm');
    const n = 32;
    const classes = 3;
    // Learnable task: the class decides which third of the image is bright.
    const xs = randomValues(n * 12 * 12, 99).map((v) => v * 0.1);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = i % classes;
      labels[i] = k;
      for (let r = 0; r < 12; r++) for (let c = 4 * k; c < 4 * k + 4; c++) xs[i * 144 + r * 12 + c]! += 1;
    }
    const x = tf.tensor4d(xs, [n, 12, 12, 1]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const losses: number[] = [];
    for (let step = 0; step < 15; step++) losses.push(Number(await model.trainOnBatch(x, y)));
    const history = await model.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0, shuffle: false });
    losses.push(...(history.history.loss as number[]));
    expect(tf.getBackend()).toBe('wasm');
    if (process.env.WASM_GRADS_VERBOSE) console.info(losses.map((l) => l.toFixed(3)).join(" "));
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.7);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('im2col helpers', () => {
  it('insideRange: the outputs whose tap lands inside the input', () => {
    expect(insideRange(8, 1, 2, 0, 8)).toEqual([2, 8]); // 'same' 5-wide window, leftmost tap
    expect(insideRange(8, 1, 2, 4, 8)).toEqual([0, 6]); // rightmost tap
    expect(insideRange(4, 2, 1, 0, 7)).toEqual([1, 4]); // stride 2: c·2 − 1 ≥ 0 from c = 1
    expect(insideRange(3, 1, 1, 0, 1)).toEqual([1, 2]); // a one-wide input: only the middle output
    expect(insideRange(3, 1, 0, 5, 4)).toEqual([0, 0]); // a tap past the input: empty
  });

  it('im2colTransposed copies rows the same with and without a shared buffer (copyWithin or a loop)', () => {
    for (const c of cases.filter((c) => c.inC === 1 || c.stride === 1)) {
      for (const channelsLast of [true, false]) {
        const inShape: [number, number, number, number] = channelsLast ? [c.batch, c.h, c.w, c.inC] : [c.batch, c.inC, c.h, c.w];
        const info = tf.backend_util.computeConv2DInfo(inShape, [c.k, c.k, c.inC, c.outC], c.stride, 1, c.pad as 'same' | 'valid', undefined, false, channelsLast ? 'channelsLast' : 'channelsFirst');
        const n = c.batch * c.h * c.w * c.inC;
        const size = c.k * c.k * c.inC * info.batchSize * info.outHeight * info.outWidth;
        const s = tf.util.computeStrides(inShape);
        const xs = (channelsLast ? [s[0], s[1], s[2], 1] : [s[0], s[2], 1, s[1]]) as [number, number, number, number];
        const heap = new Float32Array(n + size + 3);
        const x = heap.subarray(1, 1 + n); // odd offsets, as on the wasm heap
        x.set(randomValues(n, 7));
        const shared = heap.subarray(2 + n).fill(Number.NaN); // every element must be written
        im2colTransposed(x, xs, shared.subarray(0, size), info);
        const apart = new Float32Array(size).fill(Number.NaN);
        im2colTransposed(x.slice(), xs, apart, info);
        expect(shared.subarray(0, size), `${label(c)} ${channelsLast ? 'NHWC' : 'NCHW'}`).toEqual(apart);
        expect(apart.some(Number.isNaN)).toBe(false);
      }
    }
  });
});

describe('col2im', () => {
  it('windowTaps: the taps that reach an input index, stride apart', () => {
    expect(windowTaps(5, 2, 4, 4)).toEqual({ first: 1, count: 2 }); // 5 = 2·2 + 1 = 1·2 + 3
    expect(windowTaps(5, 2, 4, 3)).toEqual({ first: 1, count: 1 }); // a 3-tap filter has no tap 3
    expect(windowTaps(0, 1, 8, 5)).toEqual({ first: 0, count: 1 }); // the first input: only tap 0
    expect(windowTaps(11, 1, 8, 5)).toEqual({ first: 4, count: 1 }); // the last input of a valid 5-wide conv
    expect(windowTaps(6, 3, 2, 2).count).toBe(0); // stride 3 > size 2: a gap no window covers
    expect(windowTaps(7, 3, 3, 2)).toEqual({ first: 1, count: 1 });
  });

  it('writes every element of dx: the sum over the windows covering it (against a plain scatter)', () => {
    for (const c of cases.filter((c) => typeof c.pad === 'string')) {
      for (const channelsLast of [true, false]) {
        const inShape: [number, number, number, number] = channelsLast ? [c.batch, c.h, c.w, c.inC] : [c.batch, c.inC, c.h, c.w];
        const info = tf.backend_util.computeConv2DInfo(inShape, [c.k, c.k, c.inC, c.outC], c.stride, 1, c.pad as 'same' | 'valid', undefined, false, channelsLast ? 'channelsLast' : 'channelsFirst');
        const s = tf.util.computeStrides(inShape);
        const [xB, xR, xC, xD] = (channelsLast ? [s[0], s[1], s[2], 1] : [s[0], s[2], 1, s[1]]) as [number, number, number, number];
        const K = c.k * c.k * c.inC;
        const P = info.batchSize * info.outHeight * info.outWidth;
        const dcols = randomValues(P * K, 13);
        const want = new Float64Array(c.batch * c.h * c.w * c.inC);
        for (let b = 0, p = 0; b < c.batch; ++b) for (let r = 0; r < info.outHeight; ++r) for (let oc = 0; oc < info.outWidth; ++oc, ++p) {
          for (let wR = 0; wR < c.k; ++wR) for (let wC = 0; wC < c.k; ++wC) for (let d = 0; d < c.inC; ++d) {
            const xr = r * c.stride - info.padInfo.top + wR;
            const xc = oc * c.stride - info.padInfo.left + wC;
            if (xr >= 0 && xr < c.h && xc >= 0 && xc < c.w) want[b * xB + xr * xR + xc * xC + d * xD]! += dcols[p * K + (wR * c.k + wC) * c.inC + d]!;
          }
        }
        const dx = new Float32Array(want.length).fill(Number.NaN);
        col2im(dcols, dx, [xB, xR, xC, xD], info);
        expect(relErr(dx, Float32Array.from(want)), `${label(c)} ${channelsLast ? 'NHWC' : 'NCHW'}`).toBeLessThan(1e-6);
      }
    }
  });
});
