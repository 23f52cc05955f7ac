/**
 * The device copies one TfjsBackend keeps of host tensors, and the bytes it moves. A copy is used
 * only while the tensor's residency record still says this device holds the current version;
 * copies are dropped when their tensor is garbage-collected, when they exceed the byte budget
 * (oldest first), or on dispose.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, TransferStats } from '@tandem/core/backend';
import { timedReadback, timedUpload } from '../observe.ts';

interface Copy {
  readonly device: tf.Tensor1D;
  readonly version: number;
  readonly bytes: number;
  readonly host: WeakRef<Tensor>;
}

export class DeviceCopies {
  private readonly copies = new WeakMap<Tensor, Copy>();
  /** Insertion order is recency: a copy is re-added on every use. */
  private readonly lru = new Set<Copy>();
  private readonly kept = new WeakSet<tf.Tensor>();
  private cachedBytes = 0;
  private readonly finalizer = new FinalizationRegistry<Copy>((copy) => this.drop(copy));
  private readonly stats = { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 };

  constructor(
    private readonly place: string,
    private readonly budgetBytes: number,
  ) {}

  /** The device copy of `t` when it holds `t`'s current data. */
  valid(t: Tensor): tf.Tensor1D | undefined {
    const copy = this.copies.get(t);
    if (!copy) return undefined;
    if (copy.version !== t.residency.version || !t.residency.isValidOn(this.place)) {
      this.drop(copy);
      return undefined;
    }
    this.lru.delete(copy);
    this.lru.add(copy);
    return copy.device;
  }

  /** Uploads all of `t` (as a flat float32 tensor), keeps the copy and records it in `t.residency`. */
  upload(t: Tensor): tf.Tensor1D {
    const device = tf.keep(this.send(t.data as Float32Array, 0, t.size));
    this.adopt(t, device);
    t.residency.addCopy(this.place);
    return device;
  }

  /** Uploads `[start, end)` of `values` as a temporary (not kept: disposed by the caller's tidy). */
  send(values: Float32Array | Int32Array, start: number, end: number): tf.Tensor1D {
    // A copy: tensors live on shared memory, which the cpu engine would otherwise alias and Dawn rejects.
    const data = values.slice(start, end);
    this.stats.uploads++;
    this.stats.uploadBytes += data.byteLength;
    return timedUpload(data.byteLength, () => tf.tensor1d(data, data instanceof Int32Array ? 'int32' : 'float32'));
  }

  /** Keeps `device` as the current copy of `t` (call after `t.residency.wroteOn(place)`). */
  adopt(t: Tensor, device: tf.Tensor1D): void {
    const old = this.copies.get(t);
    if (old) this.drop(old);
    const copy: Copy = { device, version: t.residency.version, bytes: device.size * 4, host: new WeakRef(t) };
    this.copies.set(t, copy);
    this.kept.add(device);
    this.lru.add(copy);
    this.cachedBytes += copy.bytes;
    this.finalizer.register(t, copy, copy);
    for (const oldest of this.lru) {
      if (this.cachedBytes <= this.budgetBytes || oldest === copy) break;
      this.drop(oldest);
    }
  }

  /** Whether `device` is a kept copy (so not the caller's to dispose). */
  isKept(device: tf.Tensor): boolean {
    return this.kept.has(device);
  }

  /** Downloads `device`'s data, counting the bytes. */
  async read(device: tf.Tensor): Promise<Float32Array | Int32Array> {
    // data() also waits for the kernels that compute `device`: tfjs can't tell that wait from the copy.
    const data = await timedReadback(device.size * 4, async () => (await device.data()) as Float32Array | Int32Array);
    this.stats.downloads++;
    this.stats.downloadBytes += data.byteLength;
    return data;
  }

  transfers(): TransferStats {
    return { ...this.stats };
  }

  /** Bytes of device memory held by kept copies. */
  get bytes(): number {
    return this.cachedBytes;
  }

  clear(): void {
    for (const copy of [...this.lru]) this.drop(copy);
  }

  private drop(copy: Copy): void {
    if (!this.lru.delete(copy)) return;
    this.cachedBytes -= copy.bytes;
    this.finalizer.unregister(copy);
    const host = copy.host.deref();
    if (host && this.copies.get(host) === copy) this.copies.delete(host);
    this.kept.delete(copy.device);
    copy.device.dispose();
  }
}
