/**
 * Putting one of Tandem's kernels in place of tfjs-backend-wasm's, and back: what each faster
 * kernel here (matmul, sum, max-pool-grad) needs the same way.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';

/** Registers and unregisters one wasm kernel override. */
export interface KernelOverride {
  /** Puts ours in place (idempotent); false when the wasm backend can't take it (not loaded). */
  register(): boolean;
  /** Puts the backend's own kernel back, if ours is in place. */
  unregister(): void;
}

/**
 * An override of the wasm kernel `kernelName`: `make` builds our kernel's config from the native
 * one (undefined if the backend has none), or returns undefined when it can't be registered.
 *
 * @example
 * ```ts
 * const sum = kernelOverride('Sum', (native) => native && { ...native, kernelFunc: mySum(native.kernelFunc) });
 * sum.register();
 * ```
 */
export function kernelOverride(kernelName: string, make: (native: KernelConfig | undefined) => KernelConfig | undefined): KernelOverride {
  let ours: KernelConfig | undefined;
  let native: KernelConfig | undefined;
  return {
    register() {
      if (ours && getKernel(kernelName, 'wasm') === ours) return true;
      const existing = getKernel(kernelName, 'wasm');
      const config = make(existing);
      if (!config) return false;
      native = existing;
      if (existing) unregisterKernel(kernelName, 'wasm'); // avoids tfjs's "already registered" warning
      ours = config;
      registerKernel(ours);
      return true;
    },
    unregister() {
      if (!ours || getKernel(kernelName, 'wasm') !== ours) return;
      unregisterKernel(kernelName, 'wasm');
      if (native) registerKernel(native);
      ours = undefined;
      native = undefined;
    },
  };
}
