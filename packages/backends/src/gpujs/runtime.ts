/**
 * gpu.js 2.24 as this backend uses it: loaded only after Dawn is this thread's `navigator.gpu`
 * (gpu.js reads it when its WebGPU kernels first ask for a device), and typed just as far as we
 * touch it — its own `index.d.ts` predates the WebGPU backend.
 */
import { dawn } from '../dawn.ts';
import { patchWgslDialect } from './wgsl-dialect.ts';

export type { WebGpuContext, BufferHandle, BuiltKernel, KernelShortcut, KernelSettings, GpuInstance, GpuJs } from './gpujs-api.ts';
import type { GpuJs } from './gpujs-api.ts';

/**
 * This thread's gpu.js, imported after Dawn is installed as `navigator.gpu`.
 *
 * @example
 * ```ts
 * const { GPU } = await loadGpuJs();
 * const gpu = new GPU({ mode: 'webgpu' });
 * ```
 */
export async function loadGpuJs(): Promise<GpuJs> {
  await dawn();
  const mod = (await import('gpu.js')) as unknown as Partial<GpuJs> & { default?: GpuJs };
  const gpujs = mod.default ?? (mod as GpuJs);
  patchWgslDialect(gpujs);
  return gpujs;
}
