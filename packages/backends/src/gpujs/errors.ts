import { TandemError } from '@tandem/core/backend';

/**
 * gpu.js can't run this kernel on the GPU: it failed to compile it to WGSL, or ran it on its CPU
 * path instead. The backend never reports such a run as a GPU one; the kernel belongs on the cpu
 * backend, which runs the same source as plain JS.
 *
 * @example
 * ```ts
 * try { await gpujs.run(call); }
 * catch (e) { if (e instanceof KernelUnsupportedError) await cpu.run(call); }
 * ```
 */
export class KernelUnsupportedError extends TandemError {
  readonly backend = 'gpujs';
  readonly kernel: string;
  readonly reason: string;
  constructor(kernel: string, reason: string, cause?: unknown) {
    super('ERR_TANDEM_KERNEL_UNSUPPORTED', `gpujs: kernel '${kernel}' can't run on the GPU: ${reason} — run it on the cpu backend, which runs the same source as JS`, { cause });
    this.kernel = kernel;
    this.reason = reason;
  }
}
