/**
 * Dawn (the npm package `webgpu`, 0.6.x: the build whose binary loads on Debian 12) as this
 * thread's `navigator.gpu`. gpu.js and tfjs-backend-webgpu read `navigator.gpu`, so it must exist
 * before they load; each worker thread gets its own instance, since Dawn objects don't cross
 * threads.
 */
import { BackendUnavailableError } from '@tandem/core/backend';
import { dawnMessages, GPU_LOG_ENV, quietDawn } from './dawn-log.ts';

let instance: GPU | undefined;
let loadError: unknown;

/** This thread's Dawn instance, installed as `navigator.gpu`; throws `BackendUnavailableError` if Dawn can't load. */
export async function dawn(): Promise<GPU> {
  if (instance) return instance;
  if (loadError) throw loadError;
  try {
    // Vulkan's loader writes to XDG_RUNTIME_DIR and complains when it is unset.
    process.env.XDG_RUNTIME_DIR ??= (await import('node:os')).tmpdir();
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    instance = quietRequestAdapter(create([]));
    const nav = ((globalThis as { navigator?: { gpu?: GPU } }).navigator ??= {} as { gpu?: GPU });
    Object.defineProperty(nav, 'gpu', { value: instance, configurable: true, writable: true });
    return instance;
  } catch (error) {
    loadError = new BackendUnavailableError('webgpu', `Dawn (npm package webgpu) failed to load: ${(error as Error).message}`,
      'reinstall dependencies with `npm install`; Dawn needs glibc ≥ 2.36 (Debian 12, Ubuntu 22.04+)', error);
    throw loadError;
  }
}

/** Requests an adapter; when none exists, says why and how to get one. */
export async function requestAdapter(backend: string): Promise<GPUAdapter> {
  const gpu = await dawn();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    // Dawn's own account (e.g. "vkCreateInstance: Found no drivers!") stays off the terminal but rides along as the cause.
    const log = dawnMessages().join('\n');
    const cause = new Error(log ? `Dawn said:\n${log}` : `Dawn logged nothing; set ${GPU_LOG_ENV}=1 to see the driver's output`);
    throw new BackendUnavailableError(backend, 'no WebGPU adapter: no Vulkan driver found', 'run `npm run setup:gpu` (installs Mesa lavapipe, a software Vulkan driver) or install your GPU vendor\'s Vulkan driver', cause);
  }
  return adapter;
}

/**
 * Makes every `requestAdapter` on this instance — ours, gpu.js's, tfjs-backend-webgpu's — run
 * through {@link quietDawn}: Dawn prints its adapter-discovery log synchronously inside that call.
 */
function quietRequestAdapter(gpu: GPU): GPU {
  const request = gpu.requestAdapter.bind(gpu);
  Object.defineProperty(gpu, 'requestAdapter', {
    value: (options?: GPURequestAdapterOptions) => quietDawn(() => request(options)),
    configurable: true,
    writable: true,
  });
  return gpu;
}

/** The adapter's own words, and whether it is a software rasteriser (lavapipe/llvmpipe, SwiftShader). */
export function describeAdapter(adapter: GPUAdapter): { description: string; software: boolean } {
  const { description, device, vendor, architecture } = adapter.info;
  const name = description || device || [vendor, architecture].filter(Boolean).join(' ') || 'unknown WebGPU adapter';
  const software = /llvmpipe|lavapipe|swiftshader|software/i.test([name, device, architecture].join(' '));
  return { description: software ? `${name} (software)` : name, software };
}
