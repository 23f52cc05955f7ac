/**
 * Where a gpu.js kernel really ran. gpu.js swaps a kernel it can't take for a CPU one behind the
 * same callable (its `onRequestFallback`), so a result alone proves nothing: the kernel object
 * the shortcut holds afterwards, and what it returned, do.
 */
import type { KernelShortcut } from './runtime.ts';

/**
 * Why this run was not a WebGPU run, or `undefined` when it was.
 *
 * @example
 * ```ts
 * const result = await shortcut(x);
 * const elsewhere = notOnWebGpu(shortcut, result);
 * if (elsewhere) throw new KernelUnsupportedError('mine', elsewhere);
 * ```
 */
export function notOnWebGpu(shortcut: KernelShortcut, result: unknown): string | undefined {
  const kernel = shortcut.kernel as KernelShortcut['kernel'] | undefined;
  const mode = kernel?.constructor.mode;
  const why = kernel?.fallbackReason ? ` (${kernel.fallbackReason})` : '';
  if (mode !== 'webgpu') return `gpu.js ran it in its '${mode ?? 'unknown'}' mode, not 'webgpu'${why}`;
  if (kernel?.fallbackRequested) return `gpu.js fell back to its CPU path${why}`;
  // Pipeline kernels on WebGPU resolve to a GPU buffer; anything else was computed elsewhere.
  if (!isBufferHandle(result)) return 'gpu.js returned host data rather than a WebGPU buffer';
  return undefined;
}

function isBufferHandle(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'WebGPUBuffer' && 'buffer' in value;
}
