/**
 * The built-in kernels as TensorFlow.js ops, over one index range. Each kernel builds its ops in
 * `tf.tidy` (synchronous, so no other tfjs work interleaves), reads the result back and writes it
 * into the output's range, or returns its partial. Where an engine's ops break the NaN semantics
 * of the contract (builtins.ts header), a small fix-up restores them (see {@link QUIRKS}).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  BINARY_KERNELS, REDUCE_KERNELS, REDUCTIONS, UNARY_KERNELS, histogramEdges, type BinaryKernel, type IndexRange, type KernelCall,
  type PartialResult, type ReduceKernel, type Tensor, type UnaryKernel,
} from '@tandem/core/backend';
import type { TfjsEngine } from './engines.ts';

/** What a kernel needs from the backend during one run. */
export interface KernelContext {
  readonly call: KernelCall;
  readonly engine: TfjsEngine;
  /** Most output rows (matmul) or output elements (conv2d) one op may produce: WebGPU caps dispatches at 65535 workgroups a dimension. */
  readonly maxRowsPerOp: number;
  readonly maxOutputsPerOp: number;
  /** Most elements one tensor may hold on the device (its largest buffer binding). */
  readonly maxElements: number;
  /** `args[i]` as a flat float32 tensor over `[start, end)`, uploaded unless the device holds it. */
  input(i: number, start: number, end: number): tf.Tensor1D;
  /** Uploads host values (counted); a temporary, disposed by the enclosing tidy. */
  send(values: Float32Array | Int32Array): tf.Tensor1D;
  /** Downloads a result (counted) and disposes it. */
  read(t: tf.Tensor): Promise<Float32Array | Int32Array>;
  /**
   * Downloads `t` into `output[start, start + t.size)` and disposes it, unless it covers all of
   * the output and `keepable`: then it is kept as the device's copy of the output.
   */
  write(start: number, t: tf.Tensor, keepable?: boolean): Promise<void>;
}

type Impl = (k: KernelContext, range: IndexRange) => Promise<PartialResult | undefined>;

/**
 * Where an engine's ops drop NaN, against the contract. Measured by this package's tests for cpu,
 * wasm and webgpu: wasm's maximum/minimum return the first operand when the second is NaN. The
 * cpu kernels use JS's Math.max/min and isNaN, and tfjs-backend-webgpu's shaders test NaN bit
 * patterns, so those hold on any machine. The tensorflow engine (TensorFlow's Eigen kernels)
 * can't be tested here and doesn't promise NaN through relu or max/min (elementwise or
 * reduced), so it gets every fix-up.
 *
 * `minMaxDropsZeroSign`: maximum/minimum of +0 and -0 return one operand by position (wasm,
 * measured; WGSL's max/min and Eigen don't order zeros either) where the contract puts -0 below +0.
 * `reluKeepsNegativeZero`: relu(-0) is -0 (webgpu, measured), where the contract says +0.
 */
export const QUIRKS: Record<TfjsEngine, {
  readonly reluDropsNaN: boolean; readonly minMaxDropsNaN: boolean; readonly reduceDropsNaN: boolean; readonly minMaxDropsZeroSign: boolean;
  readonly reluKeepsNegativeZero: boolean;
}> = {
  tensorflow: { reluDropsNaN: true, minMaxDropsNaN: true, reduceDropsNaN: true, minMaxDropsZeroSign: true, reluKeepsNegativeZero: true },
  webgpu: { reluDropsNaN: false, minMaxDropsNaN: false, reduceDropsNaN: false, minMaxDropsZeroSign: true, reluKeepsNegativeZero: true },
  wasm: { reluDropsNaN: false, minMaxDropsNaN: true, reduceDropsNaN: false, minMaxDropsZeroSign: true, reluKeepsNegativeZero: false },
  cpu: { reluDropsNaN: false, minMaxDropsNaN: false, reduceDropsNaN: false, minMaxDropsZeroSign: false, reluKeepsNegativeZero: false },
};

/** The tfjs kernels (registry names) each built-in needs, beyond Slice and Reshape. */
export const TF_KERNELS: Record<string, readonly string[]> = {
  neg: ['Neg'], abs: ['Abs'], exp: ['Exp'], log: ['Log'], sqrt: ['Sqrt'], relu: ['Relu', 'IsNan', 'Select', 'Abs'],
  sigmoid: ['Sigmoid'], tanh: ['Tanh'],
  add: ['Add'], sub: ['Sub'], mul: ['Multiply'], div: ['RealDiv'], maximum: ['Maximum', 'IsNan', 'Select', 'Neg', 'Equal', 'LogicalAnd', 'Add'],
  minimum: ['Minimum', 'IsNan', 'Select', 'Neg', 'Equal', 'LogicalAnd', 'Sub'],
  saxpy: ['Multiply', 'Add'],
  sum: ['Sum'], mean: ['Sum'], min: ['Min', 'IsNan', 'Any', 'Select', 'Reciprocal'], max: ['Max', 'IsNan', 'Any', 'Select', 'Reciprocal'],
  matmul: ['BatchMatMul'], conv2d: ['Conv2D', 'PadV2'],
  histogram: ['SearchSorted', 'DenseBincount'], cumsum: ['Cumsum'],
  sort: ['TopK', 'Reverse', 'IsNan', 'Select', 'Cast', 'Sum', 'Neg', 'Equal', 'Less', 'LogicalAnd', 'Reciprocal'],
};

/** Kernels an engine runs without tfjs: the cpu engine's TopK boxes every element (69 s for 16M values), so it sorts typed arrays on this thread instead. */
export const HOST_KERNELS: { readonly [E in TfjsEngine]?: readonly string[] } = { cpu: ['sort'] };

const unaryOps: Record<UnaryKernel, (x: tf.Tensor) => tf.Tensor> = {
  neg: tf.neg, abs: tf.abs, exp: tf.exp, log: tf.log, sqrt: tf.sqrt, relu: tf.relu, sigmoid: tf.sigmoid, tanh: tf.tanh,
};

const binaryOps: Record<BinaryKernel, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor> = {
  add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div, maximum: tf.maximum, minimum: tf.minimum,
};

/** NaN in, NaN out, whatever `op` does with it. */
function keepNaN(x: tf.Tensor, result: tf.Tensor): tf.Tensor {
  return tf.where(tf.isNaN(x), x, result);
}

/**
 * Where both operands are ±0: x + y is their maximum and -(-x - y) their minimum (-0 below +0).
 * A zero is the value equal to its negation; no constant tensor (an upload) is needed.
 */
function zeroSign(name: 'maximum' | 'minimum', x: tf.Tensor, y: tf.Tensor, z: tf.Tensor): tf.Tensor {
  const zeros = tf.logicalAnd(tf.equal(x, tf.neg(x)), tf.equal(y, tf.neg(y)));
  return tf.where(zeros, name === 'maximum' ? tf.add(x, y) : tf.neg(tf.sub(tf.neg(x), y)), z);
}

const scalar = (k: KernelContext, v: number) => tf.reshape(k.send(Float32Array.of(v)), []);

function unary(name: UnaryKernel): Impl {
  return async (k, { start, end }) => {
    if (end === start) return undefined;
    await k.write(start, tf.tidy(() => {
      const x = k.input(0, start, end);
      let y = unaryOps[name](x);
      if (name !== 'relu') return y;
      // relu's result is never negative, so abs changes only -0 (to +0).
      if (QUIRKS[k.engine].reluKeepsNegativeZero) y = tf.abs(y);
      return QUIRKS[k.engine].reluDropsNaN ? keepNaN(x, y) : y;
    }));
    return undefined;
  };
}

function binary(name: BinaryKernel): Impl {
  return async (k, { start, end }) => {
    if (end === start) return undefined;
    await k.write(start, tf.tidy(() => {
      const x = k.input(0, start, end);
      const arg = k.call.args[1]!;
      const y = typeof arg === 'number' ? scalar(k, arg) : k.input(1, start, end);
      let z = binaryOps[name](x, y);
      if (name !== 'maximum' && name !== 'minimum') return z;
      if (QUIRKS[k.engine].minMaxDropsZeroSign) z = zeroSign(name, x, y, z);
      return QUIRKS[k.engine].minMaxDropsNaN ? keepNaN(y, keepNaN(x, z)) : z;
    }));
    return undefined;
  };
}

const saxpy: Impl = async (k, { start, end }) => {
  if (end === start) return undefined;
  await k.write(start, tf.tidy(() => tf.add(tf.mul(scalar(k, k.call.args[2] as number), k.input(0, start, end)), k.input(1, start, end))));
  return undefined;
};

function reduce(name: ReduceKernel): Impl {
  return async (k, { start, end }) => {
    if (end === start) return [REDUCTIONS[name].identity];
    const result = tf.tidy(() => {
      const x = k.input(0, start, end);
      if (name === 'sum' || name === 'mean') return tf.sum(x);
      const value = name === 'min' ? tf.min(x) : tf.max(x);
      return QUIRKS[k.engine].reduceDropsNaN ? tf.where<tf.Tensor>(tf.any(tf.isNaN(x)), tf.scalar(Number.NaN), value) : value;
    });
    const value = (await k.read(result))[0]!;
    return [value === 0 && (name === 'min' || name === 'max') ? await signedZero(k, name, start, end) : value];
  };
}

/**
 * The min or max of a range that came out ±0, with the sign the contract wants (-0 below +0);
 * engines keep whichever zero their reduction order met first. A min of 0 means no negative
 * input, so a -0 is there exactly when some 1/x is -Infinity (for max: +0 and +Infinity).
 */
async function signedZero(k: KernelContext, name: 'min' | 'max', start: number, end: number): Promise<number> {
  const r = tf.tidy(() => (name === 'min' ? tf.min : tf.max)(tf.reciprocal(k.input(0, start, end))));
  const extreme = (await k.read(r))[0]!;
  if (name === 'min') return extreme === -Infinity ? -0 : 0;
  return extreme === Infinity ? 0 : -0;
}

const matmul: Impl = async (k, { start, end }) => {
  const [m, kk] = (k.call.args[0] as Tensor).shape as [number, number];
  const n = (k.call.args[1] as Tensor).shape[1]!;
  if (end === start || n === 0 || m === 0) return undefined;
  if (kk === 0) {
    (k.call.output.data as Float32Array).fill(0, start, end);
    return undefined;
  }
  const first = start / n;
  const last = end / n;
  const rows = Math.max(1, Math.min(k.maxRowsPerOp, Math.floor(k.maxElements / Math.max(kk, n))));
  for (let r0 = first; r0 < last; r0 += rows) {
    const r1 = Math.min(last, r0 + rows);
    await k.write(r0 * n, tf.tidy(() => {
      const a = tf.reshape(k.input(0, r0 * kk, r1 * kk), [r1 - r0, kk]);
      const b = tf.reshape(k.input(1, 0, kk * n), [kk, n]);
      return tf.reshape(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), [-1]);
    }));
  }
  return undefined;
};

/**
 * 'same' correlation with a centred odd filter and zero padding. Each block of output rows reads
 * its input rows plus a halo of (kh - 1) / 2 rows and pads explicitly where the halo leaves the
 * image, so a sub-range gives exactly the rows the whole image would.
 */
const conv2d: Impl = async (k, { start, end }) => {
  const [h, w] = (k.call.args[0] as Tensor).shape as [number, number];
  const [kh, kw] = (k.call.args[1] as Tensor).shape as [number, number];
  if (end === start || w === 0) return undefined;
  const ch = (kh - 1) / 2;
  const cw = (kw - 1) / 2;
  const rowsPerOp = Math.max(1, Math.min(Math.floor(k.maxOutputsPerOp / w), Math.floor(k.maxElements / (w + 2 * cw)) - 2 * ch));
  for (let r0 = start / w; r0 < end / w; r0 += rowsPerOp) {
    const r1 = Math.min(end / w, r0 + rowsPerOp);
    const a = Math.max(0, r0 - ch);
    const b = Math.min(h, r1 + ch);
    await k.write(r0 * w, tf.tidy(() => {
      const img = tf.reshape(k.input(0, a * w, b * w), [1, b - a, w, 1]);
      const padded = tf.pad(img, [[0, 0], [ch - (r0 - a), ch - (b - r1)], [cw, cw], [0, 0]]) as tf.Tensor4D;
      const filter = tf.reshape(k.input(1, 0, kh * kw), [kh, kw, 1, 1]) as tf.Tensor4D;
      return tf.reshape(tf.conv2d(padded, filter, 1, 'valid'), [-1]);
    }));
  }
  return undefined;
};

const edgeCache = new Map<string, Float32Array>();

/** Counts are float32 on the device: exact up to 2^24, so an op bins at most that many values. */
const HISTOGRAM_CHUNK = 2 ** 24;

/**
 * Bins through exact float32 edges (core's histogramEdges): searchSorted gives bin + 1, 0 below and
 * bins + 1 above the range (NaN lands in one of those). Float32 weights: tfjs-backend-webgpu
 * 4.22's denseBincount returns float bit patterns when the weights are int32.
 */
const histogram: Impl = async (k, { start, end }) => {
  const { bins, lo, hi } = k.call.params as { bins: number; lo: number; hi: number };
  const totals = new Array<number>(bins).fill(0);
  const key = `${bins} ${lo} ${hi}`;
  let edges = edgeCache.get(key);
  if (!edges) {
    edges = histogramEdges(bins, lo, hi);
    if (edgeCache.size > 16) edgeCache.clear();
    edgeCache.set(key, edges);
  }
  for (let s = start; s < end; s += HISTOGRAM_CHUNK) {
    const e = Math.min(end, s + HISTOGRAM_CHUNK);
    const counts = tf.tidy(() => {
      // searchSorted answers [1, n] for 1-D inputs; tfjs-backend-webgpu's 2-D bincount miscounts.
      const slot = tf.reshape(tf.searchSorted(k.send(edges), k.input(0, s, e), 'right'), [-1]) as tf.Tensor1D;
      return tf.denseBincount(slot, tf.tensor1d([], 'float32'), bins + 2);
    });
    const c = await k.read(counts);
    for (let i = 0; i < bins; i++) totals[i]! += c[i + 1]!;
  }
  return totals;
};

const cumsum: Impl = async (k, { start, end }) => {
  if (end === start) return undefined;
  await k.write(start, tf.tidy(() => tf.cumsum(k.input(0, start, end))));
  return undefined;
};

/**
 * Ascending, NaN last, -0 before +0: NaN sorts as +Infinity on the device (engines order it
 * differently) and the last `count` slots become NaN on the host; TopK keeps zeros in no sign
 * order, so the host rewrites the run of zeros with its -0s (counted on the device) first.
 */
const sort: Impl = async (k, { start, end }) => {
  const n = end - start;
  if (n === 0) return undefined;
  const out = k.call.output.data as Float32Array;
  if (HOST_KERNELS[k.engine]?.includes('sort')) {
    out.set((k.call.args[0] as Tensor<'float32'>).data.slice(start, end).sort(), start);
    return undefined;
  }
  const [sorted, nans, negativeZeros] = tf.tidy(() => {
    const x = k.input(0, start, end);
    const isNaN = tf.isNaN(x);
    const finite = tf.where<tf.Tensor>(isNaN, tf.scalar(Number.POSITIVE_INFINITY), x);
    const negativeZero = tf.logicalAnd(tf.equal(x, tf.neg(x)), tf.less(tf.reciprocal(x), tf.scalar(0)));
    return [tf.reverse(tf.topk(finite, n).values), tf.sum(tf.cast(isNaN, 'int32')), tf.sum(tf.cast(negativeZero, 'int32'))];
  });
  const count = (await k.read(nans))[0]!;
  const minus = (await k.read(negativeZeros))[0]!;
  // Not keepable when the host rewrites it: the device copy holds +Infinity for NaN, zeros unordered.
  await k.write(start, sorted, count === 0 && minus === 0);
  if (count > 0) out.fill(Number.NaN, end - count, end);
  if (minus > 0) sortZeros(out, start, end - count, minus);
  return undefined;
};

/** In sorted `out[start, end)`, rewrites the run of zeros as `minus` -0s then +0s. */
function sortZeros(out: Float32Array, start: number, end: number, minus: number): void {
  let lo = start;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (out[mid]! < 0) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < end && out[i] === 0; i++) out[i] = i - lo < minus ? -0 : 0;
}

export const KERNELS: Record<string, Impl> = { saxpy, matmul, conv2d, histogram, cumsum, sort };
for (const name of UNARY_KERNELS) KERNELS[name] = unary(name);
for (const name of BINARY_KERNELS) KERNELS[name] = binary(name);
for (const name of REDUCE_KERNELS) KERNELS[name] = reduce(name);
