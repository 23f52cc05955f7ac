/**
 * The alternative matmul engine: TensorFlow.js's WebAssembly backend (XNNPACK), one engine per
 * worker, each multiplying its own rows. tfjs-backend-wasm has no threads in Node, so this is how
 * it uses more than one core. Loaded only when a backend is configured with `matmul: 'tfjs-wasm'`.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

type Tf = typeof import('@tensorflow/tfjs-core');

let tf: Promise<Tf> | undefined;

function engine(): Promise<Tf> {
  tf ??= (async () => {
    const core = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the .wasm files are read from disk: point at the package's dist folder.
    const dist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${dist}/`);
    if (!(await core.setBackend('wasm'))) throw new Error('tfjs-backend-wasm failed to initialise in this worker');
    return core;
  })();
  return tf;
}

/** Writes rows [r0, r1) of A·B into `o` with tfjs-wasm's matMul. */
export async function tfjsMatmulRows(a: Float32Array, b: Float32Array, K: number, N: number, r0: number, r1: number, o: Float32Array): Promise<void> {
  if (r1 <= r0 || N === 0) return;
  const t = await engine();
  // Not inside tf.tidy: measured here, matMul ran 10-20× slower within a tidy scope.
  const at = t.tensor2d(a.subarray(r0 * K, r1 * K), [r1 - r0, K]);
  const bt = t.tensor2d(b, [K, N]);
  const ct = t.matMul(at, bt);
  try {
    o.set(ct.dataSync() as Float32Array);
  } finally {
    t.dispose([at, bt, ct]);
  }
}
