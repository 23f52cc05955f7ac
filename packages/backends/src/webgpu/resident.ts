/**
 * The device's copies of tensors, so a tensor used by several kernels is uploaded once. A copy
 * counts only while the tensor's residency record still says this device is valid and its version
 * is the one the copy was made from; anything else (a write elsewhere, a partial write here) means
 * upload again. Copies are evicted least-recently-used past a byte budget, and freed when their
 * tensor is garbage-collected.
 */
import type { Tensor } from '@tandem/core/backend';

interface Entry {
  buffer: GPUBuffer;
  version: number;
  bytes: number;
  /** Jobs using the buffer right now: an evicted entry is released only once none is. */
  pins: number;
  evicted: boolean;
}

export class ResidentCopies {
  private readonly entries = new WeakMap<Tensor, Entry>();
  /** Every live entry, least recently used first (a Set iterates in insertion order). */
  private readonly lru = new Set<Entry>();
  /** Live entries and evicted ones still pinned by a running sub. */
  private readonly byBuffer = new Map<GPUBuffer, Entry>();
  private bytes = 0;
  private readonly finalizer = new FinalizationRegistry<Entry>((e) => this.evict(e));

  constructor(
    private readonly deviceId: string,
    private readonly budgetBytes: number,
    private readonly release: (buffer: GPUBuffer) => void,
  ) {}

  /** The device copy of `t` when it is current, pinned for the caller (pair with {@link unpin}). */
  lookup(t: Tensor): GPUBuffer | undefined {
    const e = this.entries.get(t);
    if (!e || e.evicted) return undefined;
    if (!t.residency.isValidOn(this.deviceId) || e.version !== t.residency.version) {
      this.entries.delete(t);
      this.finalizer.unregister(e);
      this.evict(e);
      return undefined;
    }
    this.lru.delete(e);
    this.lru.add(e);
    e.pins++;
    return e.buffer;
  }

  /** Records `buffer` as the current copy of `t` (replacing any older one), pinned for the caller. */
  store(t: Tensor, buffer: GPUBuffer, bytes: number): void {
    const old = this.entries.get(t);
    if (old) {
      this.finalizer.unregister(old);
      this.evict(old);
    }
    const e: Entry = { buffer, version: t.residency.version, bytes, pins: 1, evicted: false };
    this.entries.set(t, e);
    this.lru.add(e);
    this.byBuffer.set(buffer, e);
    this.bytes += bytes;
    this.finalizer.register(t, e, e);
    for (const victim of this.lru) {
      if (this.bytes <= this.budgetBytes) break;
      if (victim !== e) this.evict(victim);
    }
  }

  /** The caller is done with a buffer {@link lookup} or {@link store} gave it. */
  unpin(buffer: GPUBuffer): void {
    const e = this.byBuffer.get(buffer);
    if (!e) return;
    e.pins--;
    if (e.evicted && e.pins === 0) {
      this.byBuffer.delete(buffer);
      this.release(buffer);
    }
  }

  private evict(e: Entry): void {
    if (e.evicted) return;
    e.evicted = true;
    this.lru.delete(e);
    this.bytes -= e.bytes;
    if (e.pins > 0) return; // released by the last unpin
    this.byBuffer.delete(e.buffer);
    this.release(e.buffer);
  }

  /** Bytes held by current copies. */
  get residentBytes(): number {
    return this.bytes;
  }

  /** Forgets every copy (the device is going away; its buffers die with it). */
  clear(): void {
    for (const e of this.lru) {
      e.evicted = true;
      this.finalizer.unregister(e);
    }
    this.lru.clear();
    this.byBuffer.clear();
    this.bytes = 0;
  }
}
