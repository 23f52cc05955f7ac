/**
 * A faster `BatchMatMul` for tfjs-backend-wasm (4.22) when an operand is transposed.
 *
 * The wasm backend multiplies plain operands with XNNPACK's packed SIMD GEMM, but a transposed
 * operand takes a scalar path about 14× slower (measured: [512,784]ᵀ·[512,128] in 47 ms against
 * 3.4 ms for the same product untransposed). A dense layer's backward pass is made of exactly
 * those products (dW = xᵀ·dy, dx = dy·Wᵀ), so training on wasm spent most of each step there.
 * This kernel transposes the operand with the backend's own Transpose (a copy, ~1.5 ms for
 * 784×512) and hands the plain product to the native kernel.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  disposeData(dataId: object): boolean;
}

let ours: KernelConfig | undefined;
let native: KernelConfig | undefined;

/** The permutation that swaps the last two axes of a rank-`rank` tensor. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return perm;
}

function transposedMatMul(nativeMatMul: KernelFunc, transpose: KernelFunc): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB } = attrs as NamedAttrMap & { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return nativeMatMul({ inputs, backend, attrs });
    const made: TensorInfo[] = [];
    const plain = (t: TensorInfo, transposed: boolean): TensorInfo => {
      if (!transposed) return t;
      const out = transpose({ inputs: { x: t }, backend, attrs: { perm: swapLastTwo(t.shape.length) } }) as TensorInfo;
      made.push(out);
      return out;
    };
    try {
      const a = plain(inputs.a as TensorInfo, transposeA);
      const b = plain(inputs.b as TensorInfo, transposeB);
      return nativeMatMul({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of made) (backend as unknown as WasmBackendLike).disposeData(t.dataId);
    }
  };
}

/**
 * Replaces the wasm backend's `BatchMatMul` with one that multiplies transposed operands on the
 * fast path (see the module comment). Idempotent; returns whether it is in place. Call it after
 * `@tensorflow/tfjs-backend-wasm` is imported, before training.
 *
 * @example
 * ```ts
 * await import('@tensorflow/tfjs-backend-wasm');
 * registerWasmFastMatMul();
 * tf.matMul(x, dy, true, false); // x transposed, now at the plain product's speed
 * ```
 */
export function registerWasmFastMatMul(): boolean {
  if (ours && getKernel('BatchMatMul', 'wasm') === ours) return true;
  const matMul = getKernel('BatchMatMul', 'wasm');
  const transpose = getKernel('Transpose', 'wasm');
  if (!matMul || !transpose) return false;
  native = matMul;
  unregisterKernel('BatchMatMul', 'wasm'); // avoid tfjs's "already registered" warning
  ours = { ...matMul, kernelFunc: transposedMatMul(matMul.kernelFunc, transpose.kernelFunc) };
  registerKernel(ours);
  return true;
}

/**
 * Puts the wasm backend's own `BatchMatMul` back. Mainly for tests and benches.
 *
 * @example
 * ```ts
 * unregisterWasmFastMatMul();
 * ```
 */
export function unregisterWasmFastMatMul(): void {
  if (!ours || getKernel('BatchMatMul', 'wasm') !== ours) return;
  unregisterKernel('BatchMatMul', 'wasm');
  registerKernel(native!);
  ours = undefined;
  native = undefined;
}
