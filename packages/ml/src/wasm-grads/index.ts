/**
 * Gradient kernels that `@tensorflow/tfjs-backend-wasm` (4.22) does not ship, so that
 * convolutional nets can be trained on the wasm backend (issue #5).
 *
 * The wasm backend registers `Conv2D`, `Conv2DBackpropInput`, `MaxPoolGrad`, … but not
 * `Conv2DBackpropFilter`, so `tf.grad` of any conv2d w.r.t. its filter throws
 * "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'".
 *
 * `registerWasmConvGradients()` registers implementations that rearrange their inputs in JS,
 * straight from the wasm heap (im2col / col2im), and multiply them on the wasm backend's own
 * BatchMatMul, for either data format, for every
 * kernel in {@link WASM_CONV_GRADIENT_KERNELS} that is not registered for 'wasm' yet (kernels
 * the wasm backend already implements natively are left alone unless `override` is set).
 * @packageDocumentation
 */
import { backend_util, getKernel, registerKernel, unregisterKernel, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

import { col2im } from './col2im.ts';
import { im2colTransposed } from './im2col.ts';
import { transposeLastTwo } from '../wasm-kernels/transpose.ts';

/** The kernels this module can provide for the wasm backend. */
export const WASM_CONV_GRADIENT_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput'] as const;
export type WasmConvGradientKernel = (typeof WASM_CONV_GRADIENT_KERNELS)[number];

/** The part of tfjs-backend-wasm's `BackendWasm` these kernels use. */
interface WasmBackendLike {
  typedArrayFromHeap(t: TensorInfo): backend_util.TypedArray;
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array): TensorInfo;
  disposeData(dataId: object): boolean;
}

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** Element strides of a rank-4 tensor in batch/row/col/channel order, for either data format. */
function strides4(shape: readonly number[], channelsLast: boolean): [number, number, number, number] {
  const s = util.computeStrides(shape as number[]);
  const [s0, s1, s2] = [s[0]!, s[1]!, s[2]!];
  return channelsLast ? [s0, s1, s2, 1] : [s0, s2, 1, s1];
}

function asFloat32(backend: WasmBackendLike, t: TensorInfo, what: string): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`${what}: expected a float32 tensor, got ${t.dtype}`);
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/**
 * dy as the matrix [P, out] (P = batch·outH·outW) the products below take: channels-last dy is
 * that matrix already; channels-first dy is copied into it. `dispose` frees the copy, if any.
 */
function dyMatrix(backend: WasmBackendLike, dy: TensorInfo, info: backend_util.Conv2DInfo, what: string): { matrix: TensorInfo; dispose(): void } {
  const { batchSize, outHeight, outWidth, outChannels } = info;
  const P = batchSize * outHeight * outWidth;
  const dyv = asFloat32(backend, dy, what);
  if (info.dataFormat === 'channelsLast') return { matrix: { dataId: dy.dataId, shape: [1, P, outChannels], dtype: 'float32' }, dispose: () => {} };
  const [yB, yR, yC, yD] = strides4(dy.shape, false);
  const rows = new Float32Array(P * outChannels);
  for (let b = 0, p = 0; b < batchSize; ++b) {
    for (let r = 0; r < outHeight; ++r) {
      for (let c = 0; c < outWidth; ++c, ++p) {
        for (let d2 = 0; d2 < outChannels; ++d2) rows[p * outChannels + d2] = dyv[b * yB + r * yR + c * yC + d2 * yD]!;
      }
    }
  }
  const matrix = backend.makeOutput([1, P, outChannels], 'float32', undefined, rows);
  return { matrix, dispose: () => void backend.disposeData(matrix.dataId) };
}

/**
 * dW[wR, wC, d1, d2] = Σ_{b, yR, yC} x[b, yR·sH + wR − top, yC·sW + wC − left, d1] · dy[b, yR, yC, d2],
 * as one matrix product: dW[K, out] = colsT[K, P] · dy[P, out], where column p of colsT is the
 * input window under output position p (K = fh·fw·in), zero where the window hangs over the
 * padding. The product runs in the wasm backend's own BatchMatMul (XNNPACK, SIMD), which is
 * several times faster than any loop in JS.
 */
function conv2DBackpropFilterIm2col(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const P = batchSize * outHeight * outWidth;
  const K = filterHeight * filterWidth * inChannels;
  const rows = dyMatrix(backend, dy, info, 'Conv2DBackpropFilter dy');
  // Built transposed, colsT[K, P], so the product needs no transpose: XNNPACK's transposed-A
  // path is an order of magnitude slower than its plain one. Written straight into the heap
  // (built in a JS array and copied in by makeOutput, conv2 of the MNIST CNN took 0.6 ms more).
  const a = backend.makeOutput([1, K, P], 'float32');
  try {
    // Views taken after makeOutput: it may grow the heap, which detaches views taken before.
    const colsT = backend.typedArrayFromHeap(a) as Float32Array;
    im2colTransposed(asFloat32(backend, x, 'Conv2DBackpropFilter x'), strides4(x.shape, info.dataFormat === 'channelsLast'), colsT, info);
    const out = wasmMatMul(backend, a, rows.matrix);
    return { dataId: out.dataId, shape: [filterHeight, filterWidth, inChannels, outChannels], dtype: 'float32' };
  } finally {
    backend.disposeData(a.dataId);
    rows.dispose();
  }
}

/** a · b on the wasm backend's BatchMatMul kernel (untransposed: its transposed paths are an order of magnitude slower). */
function wasmMatMul(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo): TensorInfo {
  const matMul = getKernel('BatchMatMul', 'wasm');
  if (!matMul) throw new Error('tfjs-backend-wasm has no BatchMatMul kernel registered');
  return matMul.kernelFunc({ inputs: { a, b }, backend: backend as never, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
}

/**
 * dx[b, xr, xc, d1] = Σ_{wR, wC, d2} dy[b, (xr + top − wR)/sH, (xc + left − wC)/sW, d2] · W[wR, wC, d1, d2],
 * as dcols[P, K] = dy[P, out] · Wᵀ[out, K] on the wasm BatchMatMul, then each input position
 * summed from the windows that cover it (col2im). tfjs-backend-wasm's native Conv2DBackpropInput
 * is a direct loop, several times slower.
 */
function conv2DBackpropInputIm2col(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { inChannels, outChannels, filterHeight, filterWidth } = info;
  const K = filterHeight * filterWidth * inChannels;
  // W is small: transpose it here, since the wasm BatchMatMul's transposed-B path is slow too.
  asFloat32(backend, filter, 'Conv2DBackpropInput filter');
  const wTensor = transposeLastTwo(backend, { dataId: filter.dataId, shape: [1, K, outChannels], dtype: 'float32' });
  const rows = dyMatrix(backend, dy, info, 'Conv2DBackpropInput dy');
  let product: TensorInfo;
  try {
    product = wasmMatMul(backend, rows.matrix, wTensor);
  } finally {
    backend.disposeData(wTensor.dataId);
    rows.dispose();
  }
  try {
    const out = backend.makeOutput(info.inShape.slice(), 'float32');
    // Views taken after makeOutput: it may grow the heap, which detaches views taken before.
    const dcols = asFloat32(backend, product, 'Conv2DBackpropInput dcols');
    col2im(dcols, backend.typedArrayFromHeap(out) as Float32Array, strides4(info.inShape, info.dataFormat === 'channelsLast'), info);
    return out;
  } finally {
    backend.disposeData(product.dataId);
  }
}

/** tfjs's Conv2DBackpropFilter kernel for the wasm backend (either data format). */
export function conv2DBackpropFilterWasm(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: WasmBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number; pad: Pad; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode: Rounding; filterShape: [number, number, number, number];
  };
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat));
  return conv2DBackpropFilterIm2col(backend, x, dy, info);
}

/** tfjs's Conv2DBackpropInput kernel for the wasm backend (either data format). */
export function conv2DBackpropInputWasm(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: WasmBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: [number, number] | number; pad: Pad; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode: Rounding; inputShape: [number, number, number, number];
  };
  const info = backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat));
  return conv2DBackpropInputIm2col(backend, dy, filter, info);
}

const IMPLEMENTATIONS: Record<WasmConvGradientKernel, KernelFunc> = {
  Conv2DBackpropFilter: conv2DBackpropFilterWasm as unknown as KernelFunc,
  Conv2DBackpropInput: conv2DBackpropInputWasm as unknown as KernelFunc,
};

/** What we registered (so that a repeat call is a no-op and `unregister` only removes ours). */
const ours = new Map<WasmConvGradientKernel, KernelConfig>();
/** Native wasm kernels replaced with `override`, restored by {@link unregisterWasmConvGradients}. */
const replaced = new Map<WasmConvGradientKernel, KernelConfig>();

export interface RegisterWasmConvGradientsOptions {
  /**
   * Also replace kernels the wasm backend already implements natively (4.22 has its own
   * `Conv2DBackpropInput`). Default false: only fill the gaps.
   */
  override?: boolean;
}

/**
 * Registers the JS gradient kernels for the 'wasm' backend where they are missing.
 * Idempotent; does not need the wasm backend to be initialised (kernels are looked up by name
 * when executed). Returns the names of the kernels this module now provides.
 *
 * @example
 * ```ts
 * await tf.setBackend('wasm');
 * registerWasmConvGradients({ override: true });   // also the faster Conv2DBackpropInput
 * await model.fit(images, labels, { epochs: 3 });   // a CNN now trains on wasm
 * ```
 */
export function registerWasmConvGradients(options: RegisterWasmConvGradientsOptions = {}): WasmConvGradientKernel[] {
  for (const name of WASM_CONV_GRADIENT_KERNELS) {
    if (ours.has(name)) continue;
    const existing = getKernel(name, 'wasm');
    if (existing && !options.override) continue;
    if (existing) {
      replaced.set(name, existing);
      unregisterKernel(name, 'wasm'); // avoid tfjs's "already registered" warning
    }
    const config: KernelConfig = { kernelName: name, backendName: 'wasm', kernelFunc: IMPLEMENTATIONS[name] };
    registerKernel(config);
    ours.set(name, config);
  }
  return [...ours.keys()];
}

/**
 * Removes the kernels registered by {@link registerWasmConvGradients}, restoring native ones it replaced. Mainly for tests.
 *
 * @example
 * ```ts
 * unregisterWasmConvGradients();
 * tf.getKernel('Conv2DBackpropFilter', 'wasm'); // undefined again
 * ```
 */
export function unregisterWasmConvGradients(): void {
  for (const [name, config] of ours) {
    if (getKernel(name, 'wasm') !== config) continue;
    unregisterKernel(name, 'wasm');
    const native = replaced.get(name);
    if (native) registerKernel(native);
  }
  ours.clear();
  replaced.clear();
}
