import { cpus } from 'node:os';
import type { WorkerKind } from '../pool/worker-handle.ts';
import { MAX_TENSOR_BYTES } from '../tensor/tensor.ts';
import type { BackendName, DeviceDescription } from './contract.ts';

/**
 * The host CPU as a device (id `cpu`): its model and how many workers drive it. One description
 * for every backend that computes on the session's workers, and for a session with none.
 *
 * @example
 * ```ts
 * const device = hostCpuDevice({ backend: 'mine', workers: pool.size, workerKind: pool.options.workerKind });
 * ```
 */
export function hostCpuDevice(o: { readonly backend: BackendName; readonly workers: number; readonly workerKind?: WorkerKind }): DeviceDescription {
  const model = cpus()[0]?.model.trim() || 'unknown CPU';
  const drivers = o.workerKind === undefined
    ? `(${o.workers} worker threads by default)`
    : `— ${o.workers} ${o.workerKind} worker${o.workers === 1 ? '' : 's'}`;
  return Object.freeze({
    id: 'cpu',
    backend: o.backend,
    kind: 'cpu',
    description: `${model} ${drivers}`,
    software: false,
    lanes: o.workers,
    limits: Object.freeze({ maxBufferBytes: MAX_TENSOR_BYTES, maxBindingBytes: MAX_TENSOR_BYTES }),
  });
}
