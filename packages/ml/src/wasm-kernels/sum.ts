/**
 * A faster `Sum` for tfjs-backend-wasm (4.22) over leading axes — a bias's gradient, the sum of
 * the output gradient over the batch. The native kernel reduces only innermost axes, so it first
 * transposes the whole input with the backend's slow `Transpose` (1 ms of a 21 ms MLP step at
 * batch 1024 for a [1024, 128] sum). Summing rows into per-column accumulators reads the input
 * once, in order. The accumulators are float64, as tfjs-backend-cpu's are.
 */
import { getKernel, registerKernel, unregisterKernel, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmHeap } from './transpose.ts';

let ours: KernelConfig | undefined;
let native: KernelConfig | undefined;

/** How many leading axes `axes` names, when it names exactly [0, k) for some k below the rank; else 0. */
export function leadingAxes(axes: readonly number[], rank: number): number {
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.length >= rank) return 0;
  return sorted.every((a, i) => a === i) ? sorted.length : 0;
}

function leadingSum(nativeSum: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { axis, keepDims } = args.attrs as NamedAttrMap & { axis: number | number[]; keepDims: boolean };
    const lead = x.dtype === 'float32' ? leadingAxes(util.parseAxisParam(axis, x.shape), x.shape.length) : 0;
    if (lead === 0) return nativeSum(args);
    const wasm = args.backend as unknown as WasmHeap;
    const rest = x.shape.slice(lead);
    const inner = rest.reduce((a, b) => a * b, 1);
    const values = wasm.typedArrayFromHeap(x) as Float32Array;
    const rows = inner === 0 ? 0 : values.length / inner;
    const acc = new Float64Array(inner);
    for (let r = 0, at = 0; r < rows; r++, at += inner) {
      for (let j = 0; j < inner; j++) acc[j]! += values[at + j]!;
    }
    const shape = keepDims ? [...new Array<number>(lead).fill(1), ...rest] : rest;
    return wasm.makeOutput(shape, 'float32', undefined, Float32Array.from(acc));
  };
}

/**
 * Replaces the wasm backend's `Sum` with one that sums leading axes without transposing (other
 * reductions still go to the native kernel). Idempotent; returns whether it is in place.
 *
 * @example
 * ```ts
 * registerWasmLeadingSum();
 * tf.sum(dy, 0); // a bias gradient: one pass over dy
 * ```
 */
export function registerWasmLeadingSum(): boolean {
  if (ours && getKernel('Sum', 'wasm') === ours) return true;
  const sum = getKernel('Sum', 'wasm');
  if (!sum) return false;
  native = sum;
  unregisterKernel('Sum', 'wasm');
  ours = { ...sum, kernelFunc: leadingSum(sum.kernelFunc) };
  registerKernel(ours);
  return true;
}

/**
 * Puts the wasm backend's own `Sum` back. Mainly for tests and benches.
 *
 * @example
 * ```ts
 * unregisterWasmLeadingSum();
 * ```
 */
export function unregisterWasmLeadingSum(): void {
  if (!ours || getKernel('Sum', 'wasm') !== ours) return;
  unregisterKernel('Sum', 'wasm');
  registerKernel(native!);
  ours = undefined;
  native = undefined;
}
