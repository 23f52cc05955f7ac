/**
 * Reuses GPU buffers across runs. Creating and destroying a buffer per kernel call costs an
 * allocation (and, on a software device, a page-faulting first touch) every time, so released
 * buffers wait in free lists keyed by usage and size class until the next request of that class.
 */

/** What a pooled buffer is for: it fixes the usage flags, so buffers of one kind are interchangeable. */
export type BufferKind = 'storage' | 'readback' | 'uniform';

/** Bytes of every uniform buffer: the largest params block any shader here declares, rounded to 256. */
export const UNIFORM_BYTES = 256;

const usageOf = (kind: BufferKind): number => {
  switch (kind) {
    case 'storage':
      return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    case 'readback':
      return GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
    case 'uniform':
      return GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
  }
};

/**
 * Rounds `bytes` up to its size class: a power of two times 1, 1.25, 1.5 or 1.75, so a pooled
 * buffer wastes at most a fifth of itself while similar sizes still share a class. 256 bytes at least
 * (the storage-offset alignment of most devices).
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const pow = 2 ** Math.floor(Math.log2(bytes));
  const step = pow / 4;
  return Math.ceil(bytes / step) * step;
}

/** Free lists of GPU buffers by kind and size class, holding at most `maxIdleBytes` idle. */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private idleBytes = 0;
  private liveBytes = 0;
  private created = 0;
  private reused = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxIdleBytes: number,
    /** The device's largest buffer: a size class never rounds past it. */
    private readonly maxBufferBytes: number,
  ) {}

  /** A buffer of at least `bytes` bytes (its `size` is the size class). */
  acquire(kind: BufferKind, bytes: number): GPUBuffer {
    const size = kind === 'uniform' ? UNIFORM_BYTES : Math.max(bytes, Math.min(sizeClass(bytes), this.maxBufferBytes - (this.maxBufferBytes % 4)));
    const list = this.free.get(`${kind}:${size}`);
    const hit = list?.pop();
    if (hit) {
      this.idleBytes -= size;
      this.reused++;
      return hit;
    }
    this.created++;
    this.liveBytes += size;
    return this.device.createBuffer({ size, usage: usageOf(kind), label: `tandem ${kind} ${size}` });
  }

  /** Returns a buffer for reuse; destroys it instead when the idle budget is spent. */
  release(kind: BufferKind, buffer: GPUBuffer): void {
    const size = buffer.size;
    if (this.idleBytes + size > this.maxIdleBytes) {
      this.liveBytes -= size;
      buffer.destroy();
      return;
    }
    const key = `${kind}:${size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
    this.idleBytes += size;
  }

  /** Counters for diagnostics and tests: how often a request was served from the free lists. */
  stats(): { created: number; reused: number; idleBytes: number; liveBytes: number } {
    return { created: this.created, reused: this.reused, idleBytes: this.idleBytes, liveBytes: this.liveBytes };
  }

  /** Destroys every idle buffer. */
  clear(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.liveBytes -= this.idleBytes;
    this.idleBytes = 0;
  }
}
