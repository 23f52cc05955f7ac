import * as tf from '@tensorflow/tfjs-core';
import { loadEngine } from '@tandem/backends/tfjs-engines';
import { createModel } from '../examples/models/mlp.ts';
await loadEngine('wasm' as never);
if (process.env.FAST) (await import('../packages/ml/src/wasm-kernels/matmul.ts')).registerWasmFastMatMul();
console.log('backend', tf.getBackend());
const batch = Number(process.argv[2] ?? 512);
const model = createModel({ hidden: 128 });
const xs = new Float32Array(batch * 784).map((_, i) => (i % 255) / 255);
const ys = new Int32Array(batch).map((_, i) => i % 10);
const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
const step = () => {
  const { value, grads } = tf.tidy(() => {
    const input = tf.tensor(xs, [batch, 784], 'float32');
    const oneHot = tf.oneHot(tf.tensor1d(ys, 'int32'), 10);
    return tf.variableGrads(() => {
      const probs = model.apply(input, { training: true }) as tf.Tensor;
      const clipped = tf.clipByValue(probs, 1e-7, 1 - 1e-7);
      return tf.div(tf.neg(tf.sum(tf.mul(oneHot, tf.log(clipped)))), batch) as tf.Scalar;
    }, vars);
  });
  for (const g of Object.values(grads)) g.dataSync();
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
for (let i = 0; i < 10; i++) step();
const t0 = performance.now();
for (let i = 0; i < 30; i++) step();
const ms = (performance.now() - t0) / 30;
console.log(`batch ${batch}: ${ms.toFixed(2)} ms/step, ${(batch / ms * 1000).toFixed(0)} samples/s (grad only, 1 thread)`);
const flops = 2 * batch * (784 * 128 + 128 * 10) * 3;
console.log(`useful GFLOP/s ${(flops / ms / 1e6).toFixed(2)}`);
const prof = await tf.profile(() => { step(); });
const agg = new Map<string, { ms: number; n: number; shapes: string }>();
for (const k of prof.kernels) {
  const e = agg.get(k.name) ?? { ms: 0, n: 0, shapes: '' };
  e.ms += Number(k.kernelTimeMs); e.n++; if (e.shapes.length < 120) e.shapes += JSON.stringify(k.inputShapes) + ' ';
  agg.set(k.name, e);
}
for (const [name, e] of [...agg].sort((a, b) => b[1].ms - a[1].ms)) console.log(name.padEnd(22), e.ms.toFixed(2).padStart(8), 'ms', String(e.n).padStart(3), e.shapes.slice(0, 110));
for (const k of prof.kernels) if (k.name === 'BatchMatMul') console.log('BMM', JSON.stringify(k.inputShapes), Number(k.kernelTimeMs).toFixed(2), JSON.stringify((k as unknown as { extraInfo?: string }).extraInfo ?? ''));
// direct timing of transposes
const a = tf.randomNormal([512, 784]); const b = tf.randomNormal([784, 128]); const c = tf.randomNormal([512, 128]);
const time = (name: string, f: () => tf.Tensor) => { for (let i = 0; i < 3; i++) f().dispose(); const t = performance.now(); for (let i = 0; i < 10; i++) { const r = f(); r.dataSync(); r.dispose(); } console.log(name, ((performance.now() - t) / 10).toFixed(2), 'ms'); };
time('plain [512,784]x[784,128]', () => tf.matMul(a, b));
time('transA [512,784]^T x [512,128]', () => tf.matMul(a, c, true, false));
time('transB [512,128] x [784,128]^T', () => tf.matMul(c, b, false, true));
time('explicit transpose then plain', () => tf.tidy(() => tf.matMul(tf.transpose(a), c)));
