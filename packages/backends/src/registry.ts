import { availableParallelism } from 'node:os';
import {
  BackendUnavailableError, hostCpuDevice, registerBackend, registeredBackends, type Backend, type BackendName,
  type DeviceDescription, type WorkerPool,
} from '@tandem/core/backend';

/** Every backend Tandem ships, in the order a session prefers them when nothing is planned. */
export const BACKEND_NAMES: readonly BackendName[] = ['cpu', 'webgpu', 'gpujs', 'tfjs'];

export interface BackendOptions {
  /** The session's worker pool: the cpu backend runs its kernels there. */
  readonly pool?: WorkerPool;
}

/**
 * Constructs one of Tandem's backends by name (not yet initialised). Each lives in its own
 * module, loaded only when asked for, so a session without GPU backends never loads Dawn or
 * TensorFlow.js.
 *
 * @example
 * ```ts
 * const gpu = await createBackend('webgpu');
 * await gpu.init();
 * ```
 */
export async function createBackend(name: BackendName, options: BackendOptions = {}): Promise<Backend> {
  switch (name) {
    case 'cpu': {
      if (!options.pool) throw new BackendUnavailableError('cpu', 'the cpu backend runs in a worker pool and none was given');
      const { CpuBackend } = await import('./cpu/index.ts');
      return new CpuBackend(options.pool);
    }
    case 'webgpu': {
      const { WebGpuBackend } = await import('./webgpu/index.ts');
      return new WebGpuBackend();
    }
    case 'gpujs': {
      const { GpuJsBackend } = await import('./gpujs/index.ts');
      return new GpuJsBackend();
    }
    case 'tfjs': {
      const { TfjsBackend } = await import('./tfjs/index.ts');
      return new TfjsBackend();
    }
    default:
      throw new BackendUnavailableError(String(name), `no such backend; Tandem has ${BACKEND_NAMES.join(', ')}`);
  }
}

/**
 * Registers Tandem's backends with the session's registry, once, highest priority first (a
 * session opens them in that order). Runs when this package is imported.
 */
export function registerTandemBackends(): void {
  BACKEND_NAMES.forEach((name, i) => {
    if (registeredBackends().includes(name)) return;
    registerBackend({ name, priority: BACKEND_NAMES.length - i, create: ({ pool }) => createBackend(name, { pool }) });
  });
}

/** One row of {@link listDevices}. */
export type DeviceStatus =
  | { readonly backend: BackendName; readonly status: 'available'; readonly device: DeviceDescription }
  | { readonly backend: BackendName; readonly status: 'unavailable'; readonly reason: string; readonly fix: string | undefined };

/**
 * Probes every backend: its device when it works, otherwise the reason and the fix.
 *
 * @example
 * ```ts
 * for (const d of await listDevices()) console.log(d.backend, d.status);
 * ```
 */
export async function listDevices(): Promise<DeviceStatus[]> {
  const rows: DeviceStatus[] = [cpuStatus()];
  for (const name of BACKEND_NAMES) {
    if (name === 'cpu') continue;
    let backend: Backend | undefined;
    try {
      backend = await createBackend(name);
      await backend.init();
      rows.push({ backend: name, status: 'available', device: backend.device });
    } catch (error) {
      const e = error as Partial<BackendUnavailableError> & Error;
      rows.push({ backend: name, status: 'unavailable', reason: e.message, fix: e.fix });
    } finally {
      await backend?.dispose().catch(() => undefined);
    }
  }
  return rows;
}

function cpuStatus(): DeviceStatus {
  return {
    backend: 'cpu',
    status: 'available',
    device: hostCpuDevice({ backend: 'cpu', workers: availableParallelism() }),
  };
}
