/**
 * Bytes by reference in Redis: BullMQ stores job data as JSON text, where a 1 MiB Float32Array
 * would become 7 MB; tensors and other large values go here instead, under the SHA-256 of their
 * content (the same bytes are stored once, and a job run twice finds its inputs), in chunks of
 * 16 MiB (Redis strings top out at 512 MiB, and smaller chunks keep one command from blocking the
 * server long), each with a TTL: a blob nobody fetches again expires, so a client that dies
 * leaves nothing behind for long.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TandemError } from '../errors.ts';
import { sharedBuffer } from '../tensor/shared-memory.ts';

export const CHUNK_BYTES = 16 * 1024 * 1024;

/** A blob's handle inside job JSON. */
export interface BlobRef {
  readonly blob: string;
  readonly bytes: number;
}

export class BlobStore {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly ttlSeconds: number) {}

  private key(hash: string, chunk: number): string {
    return `${this.prefix}:blob:${hash}:${chunk}`;
  }

  /** Stores `bytes` (or refreshes their TTL if already there) and returns the handle. */
  async put(bytes: Uint8Array): Promise<BlobRef> {
    const hash = createHash('sha256').update(bytes).digest('hex');
    const chunks = Math.max(1, Math.ceil(bytes.byteLength / CHUNK_BYTES));
    const pipeline = this.redis.pipeline();
    for (let c = 0; c < chunks; c++) {
      const part = bytes.subarray(c * CHUNK_BYTES, Math.min(bytes.byteLength, (c + 1) * CHUNK_BYTES));
      pipeline.set(this.key(hash, c), Buffer.from(part.buffer, part.byteOffset, part.byteLength), 'EX', this.ttlSeconds);
    }
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw new TandemError('ERR_TANDEM_CLUSTER', `could not store a ${bytes.byteLength}-byte blob in Redis: ${String(failed[0])}`);
    return { blob: hash, bytes: bytes.byteLength };
  }

  /** The bytes of `ref`; throws if they expired or never existed. */
  async get(ref: BlobRef): Promise<Uint8Array> {
    const chunks = Math.max(1, Math.ceil(ref.bytes / CHUNK_BYTES));
    const parts = await Promise.all(Array.from({ length: chunks }, (_, c) => this.redis.getBuffer(this.key(ref.blob, c))));
    const out = new Uint8Array(sharedBuffer(ref.bytes));
    let at = 0;
    for (const [c, part] of parts.entries()) {
      if (!part) throw new TandemError('ERR_TANDEM_CLUSTER', `blob ${ref.blob.slice(0, 12)}… chunk ${c} is not in Redis (expired after ${this.ttlSeconds} s, or Redis lost it)`);
      out.set(part, at);
      at += part.byteLength;
    }
    if (at !== ref.bytes) throw new TandemError('ERR_TANDEM_CLUSTER', `blob ${ref.blob.slice(0, 12)}… has ${at} bytes, expected ${ref.bytes}`);
    return out;
  }
}
