/**
 * What moving data through the cluster costs, measured: the round trip to Redis and the time to
 * store and fetch blobs of a few sizes, recorded in the session's cost model as the transfers of
 * the device `cluster` — the same fit (a·bytesᵇ + c) the planner keeps for each GPU's uploads.
 * Measured when a session joins, then refreshed from the jobs it submits.
 */
import type { Redis } from 'ioredis';
import type { CostModel } from '../planner/cost-model.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { BlobStore } from './blob-store.ts';

/** The cost model's device id for the cluster link. */
export const CLUSTER_LINK = 'cluster';

/** What calibration measured. */
export interface LinkCosts {
  /** Median PING round trip, ms. */
  readonly roundTripMs: number;
  /** Store + fetch of 4 MiB, as MB/s of the blob. */
  readonly blobMBps: number;
}

const SIZES = [64 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/** Times PINGs and blob round trips (put, then get) and records them in `costs`. */
export async function calibrateLink(redis: Redis, store: BlobStore, costs: CostModel): Promise<LinkCosts> {
  const pings: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await redis.ping();
    pings.push(performance.now() - t);
  }
  pings.sort((a, b) => a - b);
  let big = 0;
  for (const bytes of SIZES) {
    // Distinct content each time: the store is content-addressed, and equal bytes would be one key.
    const data = new Uint8Array(bytes);
    for (let rep = 0; rep < 2; rep++) {
      data[0] = rep;
      data[bytes - 1] = Math.floor(Math.random() * 256);
      const t = performance.now();
      const ref = await store.put(data);
      await store.get(ref);
      const ms = performance.now() - t;
      costs.recordTransfer(CLUSTER_LINK, bytes, ms);
      if (bytes === SIZES.at(-1)) big = ms;
    }
  }
  return { roundTripMs: pings[2]!, blobMBps: SIZES.at(-1)! / 1e6 / (big / 1000) };
}

/** Bytes of the binary values (tensors, typed arrays, buffers) in `value`: what travels as blobs. */
export function binaryBytes(value: unknown, depth = 0): number {
  if (depth > 16 || value === null || typeof value !== 'object') return 0;
  if (value instanceof Tensor) return value.data.byteLength;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return value.byteLength;
  let sum = 0;
  for (const v of Array.isArray(value) ? value : Object.values(value)) sum += binaryBytes(v, depth + 1);
  return sum;
}
