/**
 * Which replicas a training run gets: the `replicas` option resolved, against the session's
 * workers and devices, to one engine and one device per replica. The session probed the devices;
 * nothing here opens one.
 */
import { createRequire } from 'node:module';
import { ArgumentError, type DeviceDescription } from '@tandem/core';
import type { TrainingDevice } from '@tandem/core/internal/planner/training';
import type { ReplicaEngine } from './types.ts';

export const REPLICA_ENGINES: readonly ReplicaEngine[] = ['wasm', 'cpu', 'webgpu', 'tensorflow'];

const require = createRequire(import.meta.url);

export function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

/** The replicas asked for: one engine and device each; `auto` when Tandem chose them (the planner may then leave some out). */
export interface ReplicaRequest {
  readonly engines: ReplicaEngine[];
  readonly devices: TrainingDevice[];
  readonly auto: boolean;
}

const CPU: TrainingDevice = { id: 'cpu', kind: 'cpu', software: false };

/** The device a replica of `engine` runs on: the CPU, or the session's WebGPU adapter (tfjs's webgpu engine opens the same kind). */
export function deviceOf(engine: ReplicaEngine, devices: readonly DeviceDescription[]): TrainingDevice {
  if (engine !== 'webgpu') return CPU;
  const gpu = devices.find((d) => d.backend === 'webgpu') ?? devices.find((d) => d.kind === 'gpu');
  return gpu ? { id: gpu.id, kind: 'gpu', software: gpu.software, description: gpu.description } : { id: 'webgpu', kind: 'gpu', software: false };
}

/**
 * One engine per replica, from a count, a list or 'auto': one CPU replica per free worker of the
 * session (or one tensorflow replica, using every core, when tfjs-node is installed), with one of
 * those workers feeding a webgpu replica when the session has a WebGPU device. Whether that GPU
 * (a software one, say) keeps its replica is the planner's call.
 */
export function resolveReplicas(option: unknown, backend: 'wasm' | 'cpu', session: { workers: number; devices: readonly DeviceDescription[] }, argument = 'replicas'): ReplicaRequest {
  const request = (engines: ReplicaEngine[], auto: boolean): ReplicaRequest => ({ engines, devices: engines.map((e) => deviceOf(e, session.devices)), auto });
  if (option === 'auto' || option === undefined) {
    const gpu = session.devices.some((d) => d.backend === 'webgpu');
    if (tfjsNodeInstalled()) return request(gpu && session.workers > 0 ? ['tensorflow', 'webgpu'] : ['tensorflow'], true);
    const cpu = Math.max(1, session.workers - (gpu && session.workers > 1 ? 1 : 0));
    const engines: ReplicaEngine[] = Array.from({ length: cpu }, () => backend);
    return request(gpu && session.workers > 1 ? [...engines, 'webgpu'] : engines, true);
  }
  if (typeof option === 'number') {
    if (!Number.isSafeInteger(option) || option < 1) throw new ArgumentError(argument, "a positive integer, 'auto' or a list of engines", option);
    return request(Array.from({ length: option }, () => backend), false);
  }
  if (Array.isArray(option) && option.length > 0 && option.every((e) => REPLICA_ENGINES.includes(e as ReplicaEngine))) {
    if (option.filter((e) => e === 'tensorflow').length > 1) {
      throw new ArgumentError(argument, "at most one 'tensorflow' replica (tfjs-node loads in one thread per process; it uses several cores itself)", option);
    }
    return request([...option] as ReplicaEngine[], false);
  }
  throw new ArgumentError(argument, `a positive integer, 'auto' or a non-empty list of ${REPLICA_ENGINES.join(', ')}`, option);
}

/** Workers an own session needs for `option` (no session given): one per replica but a tensorflow one; a core each under 'auto'. */
export function workersFor(option: unknown, parallelism: number): number {
  if (typeof option === 'number' && Number.isSafeInteger(option) && option > 0) return option;
  if (Array.isArray(option)) return Math.max(1, option.filter((e) => e !== 'tensorflow').length);
  return parallelism;
}
