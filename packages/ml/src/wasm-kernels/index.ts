/**
 * Kernels that make training on tfjs-backend-wasm (4.22) faster, registered in every wasm replica:
 * a `BatchMatMul` that takes transposed operands on the fast path, a `Sum` over leading axes
 * without a transpose, and a `MaxPoolGrad` that scans each window once. (The conv gradients the wasm backend lacks are in `../wasm-grads/`.)
 * @packageDocumentation
 */
import { registerWasmFastMatMul, unregisterWasmFastMatMul } from './matmul.ts';
import { registerWasmMaxPoolGrad, unregisterWasmMaxPoolGrad } from './max-pool-grad.ts';
import { registerWasmLeadingSum, unregisterWasmLeadingSum } from './sum.ts';

/**
 * Registers Tandem's faster wasm training kernels (idempotent); returns the kernels in place.
 * Call it after `@tensorflow/tfjs-backend-wasm` is loaded.
 *
 * @example
 * ```ts
 * await tf.setBackend('wasm');
 * registerWasmTrainingKernels(); // ['BatchMatMul', 'Sum', 'MaxPoolGrad']
 * ```
 */
export function registerWasmTrainingKernels(): string[] {
  const kernels: string[] = [];
  if (registerWasmFastMatMul()) kernels.push('BatchMatMul');
  if (registerWasmLeadingSum()) kernels.push('Sum');
  if (registerWasmMaxPoolGrad()) kernels.push('MaxPoolGrad');
  return kernels;
}

/**
 * Puts the wasm backend's own kernels back. Mainly for tests and benches.
 *
 * @example
 * ```ts
 * unregisterWasmTrainingKernels();
 * ```
 */
export function unregisterWasmTrainingKernels(): void {
  unregisterWasmFastMatMul();
  unregisterWasmLeadingSum();
  unregisterWasmMaxPoolGrad();
}
