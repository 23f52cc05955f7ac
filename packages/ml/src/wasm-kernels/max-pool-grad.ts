/**
 * A faster `MaxPoolGrad` for tfjs-backend-wasm (4.22): its native kernel took 5 ms of a 27 ms CNN
 * step here (two 2×2 pools at batch 32). This one scans each pooling window once, for all channels
 * together (channels are the contiguous axis), and adds the output gradient at the window's first
 * maximum — the position tfjs-backend-cpu picks, so the two agree on ties.
 */
import { backend_util, getKernel } from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { kernelOverride } from './override.ts';

interface WasmBackendLike {
  typedArrayFromHeap(t: TensorInfo): backend_util.TypedArray;
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array): TensorInfo;
}

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const dy = inputs.dy as TensorInfo;
  const input = inputs.input as TensorInfo;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as NamedAttrMap & PoolAttrs;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error(`MaxPoolGrad: expected float32 tensors, got ${input.dtype} and ${dy.dtype}`);
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const x = wasm.typedArrayFromHeap(input) as Float32Array;
  const g = wasm.typedArrayFromHeap(dy) as Float32Array;
  // Where windows overlap, a position may take several gradients: sum them in float64 and round
  // once, as tfjs-backend-cpu does. Apart, each position takes at most one.
  const overlap = strideHeight < filterHeight || strideWidth < filterWidth;
  const sum = overlap ? new Float64Array(x.length) : new Float32Array(x.length);
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  for (let b = 0, o = 0; b < batchSize; ++b) {
    for (let yR = 0; yR < outHeight; ++yR) {
      const r0 = yR * strideHeight - top;
      for (let yC = 0; yC < outWidth; ++yC, o += C) {
        const c0 = yC * strideWidth - left;
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let wR = 0; wR < filterHeight; ++wR) {
          const xr = r0 + wR;
          if (xr < 0 || xr >= inHeight) continue;
          for (let wC = 0; wC < filterWidth; ++wC) {
            const xc = c0 + wC;
            if (xc < 0 || xc >= inWidth) continue;
            const base = ((b * inHeight + xr) * inWidth + xc) * C;
            for (let d = 0; d < C; ++d) {
              const v = x[base + d]!;
              // Strictly greater: the first maximum in the window wins, as in tfjs-backend-cpu; NaN never does.
              if (v > best[d]!) {
                best[d] = v;
                at[d] = base + d;
              }
            }
          }
        }
        for (let d = 0; d < C; ++d) if (at[d]! >= 0) sum[at[d]!]! += g[o + d]!;
      }
    }
  }
  let dx: Float32Array;
  if (sum instanceof Float32Array) dx = sum;
  else (dx = new Float32Array(sum.length)).set(sum);
  return wasm.makeOutput(input.shape.slice(), 'float32', undefined, dx);
};

const override = kernelOverride('MaxPoolGrad', () => (getKernel('MaxPool', 'wasm') ? { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGrad } : undefined));

/**
 * Replaces the wasm backend's `MaxPoolGrad` with the one above. Idempotent; returns whether it is
 * in place (false when the wasm backend is not loaded).
 *
 * @example
 * ```ts
 * registerWasmMaxPoolGrad();
 * tf.grad((x) => tf.sum(tf.maxPool(x, 2, 2, 'valid')))(x); // through our kernel on wasm
 * ```
 */
export function registerWasmMaxPoolGrad(): boolean {
  return override.register();
}

/**
 * Puts the wasm backend's own `MaxPoolGrad` back. Mainly for tests.
 *
 * @example
 * ```ts
 * unregisterWasmMaxPoolGrad();
 * ```
 */
export function unregisterWasmMaxPoolGrad(): void {
  override.unregister();
}
