/**
 * Loading TensorFlow.js engines in this thread. tfjs keeps one global engine per thread (its
 * registry, its active backend), so each engine is loaded and initialised at most once per thread
 * and shared by every TfjsBackend on it; a failure is remembered too (a module that failed to load
 * won't load on a second try).
 */
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { BackendUnavailableError } from '@tandem/core/backend';
import { dawn, describeAdapter, requestAdapter } from '../dawn.ts';
import { onEngine } from './switch.ts';

/**
 * The engines, best first: the order a TfjsBackend without `engine` tries them in.
 *
 * @example
 * ```ts
 * const engine = TFJS_ENGINES.includes(arg as TfjsEngine) ? (arg as TfjsEngine) : undefined;
 * ```
 */
export const TFJS_ENGINES = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type TfjsEngine = (typeof TFJS_ENGINES)[number];

/** What a loaded engine is, for the device description. */
export interface EngineInfo {
  readonly engine: TfjsEngine;
  readonly kind: 'cpu' | 'gpu';
  readonly description: string;
  readonly software: boolean;
  readonly maxBufferBytes: number;
  readonly maxBindingBytes: number;
  /** Resolves with the reason when the engine's device is lost (WebGPU only; never otherwise). */
  readonly lost: Promise<string>;
  /** The WebGPU device tfjs drives (webgpu engine only). */
  readonly gpu?: GPUDevice;
}

/** One engine's availability here, for device listings. */
export interface EngineProbe {
  readonly engine: TfjsEngine;
  readonly available: boolean;
  /** Available, but emulating a GPU on the CPU (webgpu on a software adapter). */
  readonly software?: boolean;
  /** Why it is unavailable, with the fix; absent when available. */
  readonly reason?: string;
}

export const TFJS_NODE = '@tensorflow/tfjs-node';
export const TFJS_NODE_FIX =
  '`npm install @tensorflow/tfjs-node` on a machine that can reach storage.googleapis.com (its install script downloads libtensorflow)';

/** Host tensors are capped at this many bytes (a SharedArrayBuffer's limit on some builds). */
const HOST_MAX_BYTES = 2 ** 31 - 1;
/** tfjs-backend-wasm's heap is at most 4 GiB and holds every live tensor of a kernel (inputs, output, temporaries). */
const WASM_MAX_BYTES = 2 ** 30;

const require = createRequire(import.meta.url);
const never = new Promise<string>(() => {});
const loads = new Map<TfjsEngine, Promise<EngineInfo>>();

/** Loads and initialises `engine` in this thread (once); rejects with `BackendUnavailableError` saying why and how to fix it. */
export function loadEngine(engine: TfjsEngine): Promise<EngineInfo> {
  let load = loads.get(engine);
  if (!load) {
    load = loaders[engine]();
    loads.set(engine, load);
  }
  return load;
}

/**
 * Tries every engine in this thread and says which ones work, best first. Loading one does not
 * change tfjs's active backend.
 *
 * @example
 * ```ts
 * for (const p of await probeEngines()) console.log(p.engine, p.available ? 'ok' : p.reason);
 * ```
 */
export async function probeEngines(): Promise<EngineProbe[]> {
  const out: EngineProbe[] = [];
  for (const engine of TFJS_ENGINES) {
    try {
      const info = await loadEngine(engine);
      out.push({ engine, available: true, software: info.software });
    } catch (error) {
      out.push({ engine, available: false, reason: (error as Error).message });
    }
  }
  return out;
}

function unavailable(engine: TfjsEngine, reason: string, fix: string, cause?: unknown): BackendUnavailableError {
  return new BackendUnavailableError('tfjs', `engine '${engine}': ${reason}`, fix, cause);
}

/** Makes `engine` tfjs's backend once (initialising it), then restores the previous one. */
async function initialise(engine: TfjsEngine, fix: string): Promise<void> {
  await onEngine(engine, async () => {}).catch((error: unknown) => {
    throw unavailable(engine, `tf.setBackend('${engine}') failed: ${(error as Error).message}`, fix, error);
  });
}

const version = `TensorFlow.js ${tf.version_core}`;

const loaders: Record<TfjsEngine, () => Promise<EngineInfo>> = {
  async tensorflow() {
    try {
      require.resolve(TFJS_NODE);
    } catch (error) {
      throw unavailable('tensorflow', `the optional dependency ${TFJS_NODE} is not installed`, TFJS_NODE_FIX, error);
    }
    const active = tf.engine().backendName as string | null | undefined;
    try {
      // A variable specifier: the package is optional, so neither TypeScript nor a bundler may require it.
      const specifier = TFJS_NODE;
      await import(specifier);
      // Loading it may make 'tensorflow' the active backend; the application's choice stands.
      if (active && tf.engine().backendName !== active) await tf.setBackend(active);
    } catch (error) {
      const message = (error as Error).message;
      if (/did not self-register/i.test(message)) {
        throw unavailable('tensorflow', `${TFJS_NODE}'s native addon is already loaded by another thread of this process ("Module did not self-register"); it loads in one thread per process`,
          'use the tensorflow engine from one thread only (e.g. the main thread) and the wasm or cpu engine in worker threads', error);
      }
      throw unavailable('tensorflow', `${TFJS_NODE} failed to load: ${message}`, `reinstall it: ${TFJS_NODE_FIX}`, error);
    }
    if (!tf.findBackendFactory('tensorflow')) {
      throw unavailable('tensorflow', `${TFJS_NODE} loaded but registered no 'tensorflow' backend with @tensorflow/tfjs-core ${tf.version_core}`,
        `install the ${TFJS_NODE} release matching @tensorflow/tfjs-core ${tf.version_core}`);
    }
    await initialise('tensorflow', `reinstall it: ${TFJS_NODE_FIX}`);
    const binding = (tf.findBackend('tensorflow') as unknown as { binding?: { TF_Version?: string } } | null)?.binding;
    const lib = binding?.TF_Version ? ` (libtensorflow ${binding.TF_Version})` : '';
    return cpuEngine('tensorflow', `${version} tensorflow${lib}`, false, HOST_MAX_BYTES);
  },

  async webgpu() {
    let adapterInfo: { description: string; software: boolean };
    try {
      // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it loads.
      await dawn();
      adapterInfo = describeAdapter(await requestAdapter('tfjs'));
    } catch (error) {
      const e = error as BackendUnavailableError;
      throw unavailable('webgpu', e.message, e.fix ?? 'run `npm run setup:gpu`', error);
    }
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!tf.findBackendFactory('webgpu')) {
      throw unavailable('webgpu', '@tensorflow/tfjs-backend-webgpu was imported before navigator.gpu existed, so it did not register',
        'let TfjsBackend load it (don\'t import @tensorflow/tfjs-backend-webgpu before calling dawn() from @tandem/backends)');
    }
    await initialise('webgpu', 'check the Vulkan driver (`vulkaninfo --summary`) or run `npm run setup:gpu`');
    const device = (tf.findBackend('webgpu') as WebGPUBackend).device;
    const lost = device.lost.then((info) => info.message || `device lost (${info.reason})`);
    return {
      engine: 'webgpu',
      kind: 'gpu',
      description: `${version} webgpu on ${adapterInfo.description}`,
      software: adapterInfo.software,
      maxBufferBytes: Math.min(HOST_MAX_BYTES, device.limits.maxBufferSize),
      maxBindingBytes: Math.min(HOST_MAX_BYTES, device.limits.maxStorageBufferBindingSize),
      lost,
      gpu: device,
    };
  },

  async wasm() {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the .wasm binaries are read from a file path: the package's dist/ directory.
    wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + sep);
    await initialise('wasm', 'reinstall dependencies with `npm install` (the .wasm files ship in @tensorflow/tfjs-backend-wasm/dist)');
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
    const threads = wasm.getThreadsCount();
    return cpuEngine('wasm', `${version} wasm (${simd}, ${threads} thread${threads === 1 ? '' : 's'})`, false, WASM_MAX_BYTES);
  },

  async cpu() {
    await import('@tensorflow/tfjs-backend-cpu');
    await initialise('cpu', 'reinstall dependencies with `npm install`');
    return cpuEngine('cpu', `${version} cpu (JavaScript on this thread)`, false, HOST_MAX_BYTES);
  },
};

/** CPU engines run native or JIT code on the real CPU: not an emulation of another kind of device. */
function cpuEngine(engine: TfjsEngine, description: string, software: boolean, maxBytes: number): EngineInfo {
  return { engine, kind: 'cpu', description, software, maxBufferBytes: maxBytes, maxBindingBytes: maxBytes, lost: never };
}
