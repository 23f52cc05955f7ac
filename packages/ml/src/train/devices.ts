/**
 * Which replicas a training run gets: the `replicas` option resolved to one engine per replica.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { ArgumentError } from '@tandem/core';
import type { ReplicaEngine } from './types.ts';

export const REPLICA_ENGINES: readonly ReplicaEngine[] = ['wasm', 'cpu', 'webgpu', 'tensorflow'];

const require = createRequire(import.meta.url);

function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

/** A hardware GPU adapter: a software one (lavapipe) shares the CPU cores the wasm replicas already use. */
async function hardwareGpu(): Promise<boolean> {
  try {
    const { requestAdapter, describeAdapter } = await import('@tandem/backends');
    return !describeAdapter(await requestAdapter('tfjs')).software;
  } catch {
    return false;
  }
}

/** One engine per replica, from a count, a list or 'auto'. */
export async function resolveReplicas(option: unknown, backend: 'wasm' | 'cpu', argument = 'replicas'): Promise<ReplicaEngine[]> {
  if (option === 'auto' || option === undefined) {
    const cpu: ReplicaEngine[] = tfjsNodeInstalled() ? ['tensorflow'] : Array.from({ length: availableParallelism() }, () => backend);
    return (await hardwareGpu()) ? [...cpu, 'webgpu'] : cpu;
  }
  if (typeof option === 'number') {
    if (!Number.isSafeInteger(option) || option < 1) throw new ArgumentError(argument, "a positive integer, 'auto' or a list of engines", option);
    return Array.from({ length: option }, () => backend);
  }
  if (Array.isArray(option) && option.length > 0 && option.every((e) => REPLICA_ENGINES.includes(e as ReplicaEngine))) {
    if (option.filter((e) => e === 'tensorflow').length > 1) {
      throw new ArgumentError(argument, "at most one 'tensorflow' replica (tfjs-node loads in one thread per process; it uses several cores itself)", option);
    }
    return [...option] as ReplicaEngine[];
  }
  throw new ArgumentError(argument, `a positive integer, 'auto' or a non-empty list of ${REPLICA_ENGINES.join(', ')}`, option);
}
