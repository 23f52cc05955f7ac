/**
 * The device copies of tensors, as gpu.js pipeline handles: a handle binds wherever a kernel
 * reads an array, so an input that is already on the device is not sent again, and a kernel's
 * output can stay there for the next kernel.
 */
import { ArgumentError, type Tensor, type TransferStats } from '@tandem/core/backend';
import type { DeviceWatch } from './guard.ts';
import type { BufferHandle, GpuJs, WebGpuContext } from './runtime.ts';
import { isObserved, report, timedUpload } from '../observe.ts';

// GPUBufferUsage / GPUMapMode values, fixed by the WebGPU spec.
const MAP_READ = 0x0001;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;
/** Idle staging buffers kept for the next readbacks. */
const STAGING_KEPT = 2;

interface DeviceCopy {
  readonly handle: BufferHandle;
  /** The tensor's `residency.version` this copy holds. */
  readonly version: number;
}

/** gpu.js dims (`[x, y, z]`, x fastest) of a tensor's row-major shape; flat past 3-D (gpu.js indexes at most a[z][y][x]). */
export function gpuDims(shape: readonly number[]): number[] {
  if (shape.length === 0) return [1];
  if (shape.length > 3) return [shape.reduce((a, b) => a * b, 1)];
  return [...shape].reverse();
}

export class DeviceMemory {
  private readonly copies = new WeakMap<Tensor, DeviceCopy>();
  private readonly live = new Set<BufferHandle>();
  // A device copy dies with its tensor; without this, 64 MiB buffers would wait for dispose().
  private readonly collector = new FinalizationRegistry<BufferHandle>((handle) => this.release(handle));
  /** Idle readback buffers, largest first. */
  private readonly staging: GPUBuffer[] = [];
  private stats = { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 };

  constructor(
    private readonly gpujs: GpuJs,
    private readonly context: WebGpuContext,
    private readonly deviceId: string,
    private readonly maxBindingBytes: number,
    private readonly watch: DeviceWatch,
  ) {}

  /** Whether the device holds the tensor's current data. */
  isCurrent(t: Tensor): boolean {
    const copy = this.copies.get(t);
    return copy !== undefined && copy.version === t.residency.version && t.residency.isValidOn(this.deviceId);
  }

  /** The tensor's device copy, uploading it first unless the current data is already there. */
  handleFor(t: Tensor, argument: string): BufferHandle {
    // gpu.js computes in f32: other dtypes are converted on the way up (the typed-array copy below
    // converts), so a float64 column runs here with float32 precision — the documented tolerance of
    // a GPU run — instead of being refused and failing the call.
    if (this.isCurrent(t)) return this.copies.get(t)!.handle;
    const bytes = t.size * 4;
    if (bytes > this.maxBindingBytes) {
      throw new ArgumentError(argument, `at most ${this.maxBindingBytes} bytes (this device's maxStorageBufferBindingSize)`, `${bytes} bytes`);
    }
    this.watch.check();
    // Dawn's writeBuffer crashes on views of a SharedArrayBuffer, so the copy goes through a
    // buffer mapped at creation: one copy, straight from shared memory.
    const buffer = timedUpload(bytes, () => {
      const b = this.context.device.createBuffer({ size: Math.max(4, bytes), usage: STORAGE | COPY_SRC | COPY_DST, mappedAtCreation: true });
      new Float32Array(b.getMappedRange(), 0, t.size).set(t.data as ArrayLike<number> as Float32Array);
      b.unmap();
      return b;
    });
    const handle = new this.gpujs.WebGPUBufferResult({ buffer, output: gpuDims(t.shape), componentCount: 1, context: this.context, kernel: null });
    this.stats.uploads++;
    this.stats.uploadBytes += bytes;
    this.keep(t, handle);
    t.residency.addCopy(this.deviceId);
    return handle;
  }

  /** Keeps a kernel's result buffer as the device copy of `t`, which now holds the same data. */
  adopt(t: Tensor, result: BufferHandle): void {
    const handle = new this.gpujs.WebGPUBufferResult({ buffer: result.buffer, output: gpuDims(t.shape), componentCount: 1, context: this.context, kernel: null });
    this.keep(t, handle);
  }

  /** Copies `count` floats from the start of `handle` into `target` at `offset`. */
  async readInto(handle: BufferHandle, target: Float32Array, offset: number, count: number): Promise<void> {
    if (count === 0) return;
    const bytes = count * 4;
    const device = this.context.device;
    const staging = this.takeStaging(bytes);
    let reusable = false;
    const askedAt = performance.now();
    try {
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(handle.buffer, 0, staging, 0, bytes);
      device.queue.submit([encoder.finish()]);
      await this.watch.guard(staging.mapAsync(MAP_MODE_READ, 0, bytes), 'reading a result back');
      target.set(new Float32Array(staging.getMappedRange(0, bytes), 0, count), offset);
      staging.unmap();
      reusable = true;
    } finally {
      this.giveStaging(staging, reusable);
    }
    this.stats.downloads++;
    this.stats.downloadBytes += bytes;
    // The copy is queued behind the kernel that wrote `handle`: part of the wait is the kernel's, which this can't tell apart.
    if (isObserved()) report({ kind: 'readback', bytes, start: askedAt, end: performance.now() });
  }

  transfers(): TransferStats {
    return { ...this.stats };
  }

  dispose(): void {
    for (const handle of this.live) handle.delete();
    this.live.clear();
    for (const buffer of this.staging) buffer.destroy();
    this.staging.length = 0;
  }

  // A fresh 64 MiB staging buffer costs ~200 ms on lavapipe (allocation and clearing) against
  // ~40 ms for the copy and map themselves, so readbacks reuse the largest few.
  private takeStaging(bytes: number): GPUBuffer {
    const i = this.staging.findIndex((b) => b.size >= bytes);
    if (i >= 0) return this.staging.splice(i, 1)[0]!;
    return this.context.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
  }

  private giveStaging(buffer: GPUBuffer, reusable: boolean): void {
    if (!reusable || this.watch.lost !== undefined) {
      buffer.destroy();
      return;
    }
    this.staging.push(buffer);
    this.staging.sort((a, b) => b.size - a.size);
    for (const extra of this.staging.splice(STAGING_KEPT)) extra.destroy();
  }

  private keep(t: Tensor, handle: BufferHandle): void {
    const old = this.copies.get(t);
    if (old) {
      this.collector.unregister(old);
      this.release(old.handle);
    }
    const copy = { handle, version: t.residency.version };
    this.copies.set(t, copy);
    this.live.add(handle);
    this.collector.register(t, handle, copy);
  }

  private release(handle: BufferHandle): void {
    if (this.live.delete(handle)) handle.delete();
  }
}
