/**
 * Everything a kernel driver needs from the device: the pools, the pipeline cache, the resident
 * copies, the limits, transfer counters and the device-lost signal. One per backend.
 */
import { DeviceLostError, HOST, type Tensor, type TransferStats } from '@tandem/core/backend';
import { report, timedUpload } from '../observe.ts';
import { BufferPool } from './buffers.ts';
import { PipelineCache } from './pipelines.ts';
import { ResidentCopies } from './resident.ts';
import type { WindowLimits } from './window.ts';

/** Limits the drivers plan against (the effective ones: a constructor option may lower the binding limit). */
export interface ContextLimits extends WindowLimits {
  readonly maxBufferBytes: number;
  readonly maxWorkgroupsPerDimension: number;
  readonly workgroupStorageBytes: number;
}

export interface ContextOptions {
  readonly residentBytes: number;
  readonly poolIdleBytes: number;
}

export class GpuContext {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly resident: ResidentCopies;
  private readonly counters = { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 };
  private lostError: DeviceLostError | undefined;
  private readonly lostSignal: Promise<never>;
  private rejectLost!: (e: DeviceLostError) => void;
  /** Reused to copy shared memory into, since Dawn's writeBuffer crashes on SharedArrayBuffer views. */
  private staging: Uint8Array | undefined;
  /** When the queue last finished observed work: it runs submissions in order, so the next can't start before. */
  private queueFreeAt = 0;

  constructor(
    readonly device: GPUDevice,
    readonly deviceId: string,
    readonly limits: ContextLimits,
    options: ContextOptions,
  ) {
    this.pool = new BufferPool(device, options.poolIdleBytes, limits.maxBufferBytes);
    this.pipelines = new PipelineCache(device);
    this.resident = new ResidentCopies(deviceId, options.residentBytes, (b) => this.pool.release('storage', b));
    this.lostSignal = new Promise<never>((_, reject) => (this.rejectLost = reject));
    this.lostSignal.catch(() => undefined);
  }

  /** Marks the device lost: every guarded promise, pending or future, rejects with the same error. */
  markLost(reason: string): void {
    if (this.lostError) return;
    this.lostError = new DeviceLostError(this.deviceId, reason);
    this.rejectLost(this.lostError);
    this.resident.clear();
  }

  get lost(): DeviceLostError | undefined {
    return this.lostError;
  }

  /** Throws when the device is gone, before any work is queued on it. */
  assertAlive(): void {
    if (this.lostError) throw this.lostError;
  }

  /**
   * `p`, or a fast rejection when the device is lost first: a destroyed device may never settle
   * what was queued on it. An error arriving after the loss is reported as the loss.
   */
  async guard<T>(p: Promise<T>): Promise<T> {
    p.catch(() => undefined);
    try {
      return await Promise.race([p, this.lostSignal]);
    } catch (error) {
      throw this.lostError ?? error;
    }
  }

  /**
   * The device buffer holding `t`, uploading it unless a current copy is resident; pinned until
   * `resident.unpin`. Marks `t` valid on this device.
   */
  input(t: Tensor): GPUBuffer {
    const hit = this.resident.lookup(t);
    if (hit) return hit;
    const bytes = Math.max(4, t.data.byteLength);
    const buffer = this.pool.acquire('storage', bytes);
    this.write(buffer, 0, t.data);
    t.residency.addCopy(this.deviceId);
    this.resident.store(t, buffer, buffer.size);
    return buffer;
  }

  /** Copies host data into `buffer` at `offset` (queue-ordered before the next submit), counting it as an upload. */
  write(buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
    this.counters.uploads++;
    this.counters.uploadBytes += data.byteLength;
    timedUpload(data.byteLength, () => this.copyIn(buffer, offset, data));
  }

  /**
   * Reports to the current run's observer that the queue ran its work from `submittedAt` (or from
   * when the queue finished what was ahead of it, if later) until `doneAt`.
   */
  reportQueue(submittedAt: number, doneAt: number): void {
    const start = Math.min(doneAt, Math.max(submittedAt, this.queueFreeAt));
    this.queueFreeAt = Math.max(this.queueFreeAt, doneAt);
    report({ kind: 'compute', lane: 'queue', start, end: doneAt });
  }

  private copyIn(buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
    if (!(data.buffer instanceof SharedArrayBuffer)) {
      this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
      return;
    }
    const staging = (this.staging ??= new Uint8Array(4 << 20));
    for (let o = 0; o < data.byteLength; o += staging.length) {
      const n = Math.min(staging.length, data.byteLength - o);
      staging.set(new Uint8Array(data.buffer, data.byteOffset + o, n));
      this.device.queue.writeBuffer(buffer, offset + o, staging.buffer, 0, n);
    }
  }

  /** Counts bytes copied back to host memory. */
  countDownload(bytes: number): void {
    this.counters.downloads++;
    this.counters.downloadBytes += bytes;
  }

  /**
   * A full-size output now lives in `buffer` and has been copied back: the device wrote it, the
   * host holds it too, and the device copy is kept so a next kernel reading it skips the upload.
   * A partial write leaves the device copy unrecorded, so a later read uploads the merged result.
   */
  wrote(output: Tensor, buffer: GPUBuffer | undefined): void {
    output.residency.wroteOn(this.deviceId);
    output.residency.addCopy(HOST);
    if (buffer) this.resident.store(output, buffer, buffer.size);
  }

  transfers(): TransferStats {
    return { ...this.counters };
  }
}
