/**
 * A faster `BatchMatMul` for tfjs-backend-wasm (4.22) when an operand is transposed.
 *
 * The wasm backend multiplies plain operands with XNNPACK's packed SIMD GEMM, but a transposed
 * operand takes a scalar path about 14× slower (measured: [512,784]ᵀ·[512,128] in 47 ms against
 * 3.4 ms for the same product untransposed). A dense layer's backward pass is made of exactly
 * those products (dW = xᵀ·dy, dx = dy·Wᵀ), so training on wasm spent most of each step there.
 * This kernel copies operands into plain layout (`transpose.ts`) and hands the plain product to
 * the native kernel, choosing which copies to make: op(a)·op(b) is also (op(b)ᵀ·op(a)ᵀ)ᵀ, which
 * copies the other operands and the result instead. The choice counts that XNNPACK repacks the
 * right operand of every product it has not seen (a training step's tensors are all new): about
 * 6 ns per element here against 2 for our copy, so a big operand should not end up on the right.
 */
import { kernelOverride } from './override.ts';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { transposeLastTwo, type WasmHeap } from './transpose.ts';

const sizeOf = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

/** XNNPACK's packing of a right operand, per element, in units of one element copied by our transpose (measured: 6 vs 2 ns). */
const PACK_COST = 3;

/**
 * The cost, in element copies, of each way of making op(a)·op(b) plain: copying the transposed
 * operands, or computing (op(b)ᵀ·op(a)ᵀ)ᵀ, which copies the untransposed operands and the result
 * and puts op(a)ᵀ on the right, where XNNPACK packs it.
 */
export function transposeCosts(a: readonly number[], b: readonly number[], transposeA: boolean, transposeB: boolean): { operands: number; swapped: number } {
  const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
  const rows = transposeA ? a[a.length - 1]! : a[a.length - 2]!;
  const cols = transposeB ? b[b.length - 2]! : b[b.length - 1]!;
  const batch = Math.max(size(a.slice(0, -2)), size(b.slice(0, -2)));
  return {
    operands: (transposeA ? size(a) : 0) + (transposeB ? size(b) : 0) + PACK_COST * size(b),
    swapped: (transposeA ? 0 : size(a)) + (transposeB ? 0 : size(b)) + batch * rows * cols + PACK_COST * size(a),
  };
}

function transposedMatMul(nativeMatMul: KernelFunc): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB } = attrs as NamedAttrMap & { transposeA: boolean; transposeB: boolean };
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32' || sizeOf(a) === 0 || sizeOf(b) === 0) {
      return nativeMatMul({ inputs, backend, attrs });
    }
    const wasm = backend as unknown as WasmHeap;
    const made: TensorInfo[] = [];
    const flipped = (t: TensorInfo): TensorInfo => {
      const out = transposeLastTwo(wasm, t);
      made.push(out);
      return out;
    };
    const plain = (left: TensorInfo, right: TensorInfo) =>
      nativeMatMul({ inputs: { a: left, b: right }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } }) as TensorInfo;
    try {
      const cost = transposeCosts(a.shape, b.shape, transposeA, transposeB);
      if (cost.operands <= cost.swapped) return plain(transposeA ? flipped(a) : a, transposeB ? flipped(b) : b);
      const swapped = plain(transposeB ? b : flipped(b), transposeA ? a : flipped(a));
      made.push(swapped);
      return transposeLastTwo(wasm, swapped);
    } finally {
      for (const t of made) wasm.disposeData(t.dataId);
    }
  };
}

const override = kernelOverride('BatchMatMul', (native) => native && { ...native, kernelFunc: transposedMatMul(native.kernelFunc) });

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
  return override.register();
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
  override.unregister();
}
