/**
 * Gradient kernels that `@tensorflow/tfjs-backend-wasm` (4.22) does not ship, so that
 * convolutional nets can be trained on the wasm backend (issue #5).
 *
 * The wasm backend registers `Conv2D`, `Conv2DBackpropInput`, `MaxPoolGrad`, … but not
 * `Conv2DBackpropFilter`, so `tf.grad` of any conv2d w.r.t. its filter throws
 * "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'".
 *
 * `registerWasmConvGradients()` registers plain-JS implementations, which read their inputs
 * straight from the wasm heap and write the result back into it with `makeOutput`, for every
 * kernel in {@link WASM_CONV_GRADIENT_KERNELS} that is not registered for 'wasm' yet (kernels
 * the wasm backend already implements natively are left alone unless `override` is set).
 * @packageDocumentation
 */
import { backend_util, getKernel, registerKernel, unregisterKernel, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

/** The kernels this module can provide for the wasm backend. */
export const WASM_CONV_GRADIENT_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput'] as const;
export type WasmConvGradientKernel = (typeof WASM_CONV_GRADIENT_KERNELS)[number];

/** The part of tfjs-backend-wasm's `BackendWasm` these kernels use. */
interface WasmBackendLike {
  typedArrayFromHeap(t: TensorInfo): backend_util.TypedArray;
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array): TensorInfo;
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

/** dW[wR, wC, d1, d2] = Σ_{b, yR, yC} x[b, yR·sH + wR − top, yC·sW + wC − left, d1] · dy[b, yR, yC, d2]. */
export function conv2DBackpropFilterWasm(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: WasmBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number; pad: Pad; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode: Rounding; filterShape: [number, number, number, number];
  };
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat));
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const channelsLast = info.dataFormat === 'channelsLast';
  const [xB, xR, xC, xD] = strides4(x.shape, channelsLast);
  const [yB, yR, yC, yD] = strides4(dy.shape, channelsLast);
  const xv = asFloat32(backend, x, 'Conv2DBackpropFilter x');
  const dyv = asFloat32(backend, dy, 'Conv2DBackpropFilter dy');
  // Accumulate in float64 (the cpu backend accumulates in JS doubles too).
  const acc = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  const fC = inChannels * outChannels; // filter is [fh, fw, in, out], NHWC or not
  const fR = filterWidth * fC;
  for (let b = 0; b < batchSize; ++b) {
    for (let r = 0; r < outHeight; ++r) {
      const xr0 = r * strideHeight - top;
      const wRMin = Math.max(0, -xr0);
      const wRMax = Math.min(filterHeight, inHeight - xr0);
      for (let c = 0; c < outWidth; ++c) {
        const xc0 = c * strideWidth - left;
        const wCMin = Math.max(0, -xc0);
        const wCMax = Math.min(filterWidth, inWidth - xc0);
        const dyBase = b * yB + r * yR + c * yC;
        for (let wR = wRMin; wR < wRMax; ++wR) {
          const xRowBase = b * xB + (xr0 + wR) * xR;
          for (let wC = wCMin; wC < wCMax; ++wC) {
            const xBase = xRowBase + (xc0 + wC) * xC;
            const fBase = wR * fR + wC * fC;
            for (let d1 = 0; d1 < inChannels; ++d1) {
              const xval = xv[xBase + d1 * xD]!;
              if (xval === 0) continue; // common after relu
              const o = fBase + d1 * outChannels;
              for (let d2 = 0; d2 < outChannels; ++d2) acc[o + d2]! += xval * dyv[dyBase + d2 * yD]!;
            }
          }
        }
      }
    }
  }
  return backend.makeOutput([filterHeight, filterWidth, inChannels, outChannels], 'float32', undefined, Float32Array.from(acc));
}

/** dx[b, xr, xc, d1] = Σ_{wR, wC, d2} dy[b, (xr + top − wR)/sH, (xc + left − wC)/sW, d2] · W[wR, wC, d1, d2]. */
export function conv2DBackpropInputWasm(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: WasmBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: [number, number] | number; pad: Pad; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode: Rounding; inputShape: [number, number, number, number];
  };
  const info = backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat));
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const channelsLast = info.dataFormat === 'channelsLast';
  const [xB, xR, xC, xD] = strides4(info.inShape, channelsLast);
  const [yB, yR, yC, yD] = strides4(dy.shape, channelsLast);
  const dyv = asFloat32(backend, dy, 'Conv2DBackpropInput dy');
  const wv = asFloat32(backend, filter, 'Conv2DBackpropInput filter');
  const fC = inChannels * outChannels;
  const fR = filterWidth * fC;
  const acc = new Float64Array(batchSize * inHeight * inWidth * inChannels);
  // Scatter: every dy element contributes to the input positions its window covered.
  for (let b = 0; b < batchSize; ++b) {
    for (let r = 0; r < outHeight; ++r) {
      const xr0 = r * strideHeight - top;
      const wRMin = Math.max(0, -xr0);
      const wRMax = Math.min(filterHeight, inHeight - xr0);
      for (let c = 0; c < outWidth; ++c) {
        const xc0 = c * strideWidth - left;
        const wCMin = Math.max(0, -xc0);
        const wCMax = Math.min(filterWidth, inWidth - xc0);
        const dyBase = b * yB + r * yR + c * yC;
        for (let wR = wRMin; wR < wRMax; ++wR) {
          const xRowBase = b * xB + (xr0 + wR) * xR;
          for (let wC = wCMin; wC < wCMax; ++wC) {
            const xBase = xRowBase + (xc0 + wC) * xC;
            const fBase = wR * fR + wC * fC;
            for (let d1 = 0; d1 < inChannels; ++d1) {
              const o = fBase + d1 * outChannels;
              let s = 0;
              for (let d2 = 0; d2 < outChannels; ++d2) s += dyv[dyBase + d2 * yD]! * wv[o + d2]!;
              acc[xBase + d1 * xD]! += s;
            }
          }
        }
      }
    }
  }
  return backend.makeOutput(info.inShape.slice(), 'float32', undefined, Float32Array.from(acc));
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

/** Removes the kernels registered by {@link registerWasmConvGradients}, restoring native ones it replaced. Mainly for tests. */
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
