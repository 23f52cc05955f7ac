/**
 * The kernel bench's peers: a Tandem backend driven through the `Backend` interface, or
 * TensorFlow.js used directly in this thread (what a user of tfjs alone would write).
 *
 * Every run times what a caller waits for in steady state: the inputs are already where the peer
 * keeps them (host shared memory for the cpu backend, device buffers after the warm-up for GPU
 * backends, tfjs tensors for tfjs), and the run ends when the result is in host memory.
 */
import { kernelCall, type Backend, type KernelCall } from '@tandem/core/backend';
import type { Tensor } from '@tandem/core';
import type { KernelCase, KernelName } from './kernel-cases.ts';

type Tf = typeof import('@tensorflow/tfjs-core');
type TfTensor = import('@tensorflow/tfjs-core').Tensor;

/** One peer prepared for one case. */
export interface Runner {
  /** One timed run, in ms. */
  run(): Promise<number>;
  /** The last run's output: the whole tensor for matmul/saxpy, `[value]` for sum. */
  output(): ArrayLike<number>;
  release(): void;
}

export interface KernelPeer {
  readonly id: string;
  /** The engine or device, in its own words. */
  readonly device: string;
  /** Runs on the CPU cores as a CPU program (not a GPU API, software or not): counts for the CPU target. */
  readonly cpu: boolean;
  /** Part of Tandem (as opposed to a peer run directly for comparison). */
  readonly tandem: boolean;
  supports(kernel: KernelName): boolean;
  prepare(c: KernelCase): Promise<Runner>;
}

/** A Tandem backend, already initialised; `before` runs untimed before each run (see the tfjs note in kernels.ts). */
export function tandemPeer(id: string, backend: Backend, before?: () => Promise<void>): KernelPeer {
  const d = backend.device;
  return {
    id,
    device: d.description,
    cpu: d.kind === 'cpu' && backend.name !== 'webgpu' && backend.name !== 'gpujs',
    tandem: true,
    supports: (kernel) => backend.supports(kernel),
    async prepare(c) {
      const call: KernelCall = kernelCall(c.kernel, c.args);
      let last: ArrayLike<number> = call.output.data;
      return {
        async run() {
          await before?.();
          const t0 = performance.now();
          const partial = await backend.run(call);
          const elapsed = performance.now() - t0;
          last = partial ?? call.output.data;
          return elapsed;
        },
        output: () => last,
        release() {},
      };
    },
  };
}

/** TensorFlow.js on one of its engines, called directly: `tf.matMul(a, b)` then `await data()`. */
export function tfjsDirectPeer(id: string, tf: Tf, engine: string, device: string): KernelPeer {
  const use = async () => {
    if (tf.getBackend() !== engine) await tf.setBackend(engine);
  };
  return {
    id,
    device,
    cpu: true,
    tandem: false,
    supports: () => true,
    async prepare(c) {
      await use();
      const held: TfTensor[] = c.args.map((a) => (typeof a === 'number' ? tf.scalar(a) : tf.tensor((a as Tensor).data as Float32Array, [...a.shape])));
      const [x, y] = held;
      const compute = (): TfTensor => {
        switch (c.kernel) {
          case 'matmul': return tf.matMul(x!, y!);
          // tfjs has no fused saxpy: mul then add, in one tidy so the intermediate is freed.
          case 'saxpy': return tf.tidy(() => tf.add(tf.mul(x!, held[2]!), y!));
          case 'sum': return tf.sum(x!);
        }
      };
      let last: ArrayLike<number> = new Float32Array(0);
      return {
        async run() {
          await use();
          const t0 = performance.now();
          const r = compute();
          const values = await r.data();
          const elapsed = performance.now() - t0;
          r.dispose();
          last = values as Float32Array;
          return elapsed;
        },
        output: () => last,
        release: () => held.forEach((t) => t.dispose()),
      };
    },
  };
}
