/**
 * One run's GPU work: buffers it borrows, dispatches recorded into one command encoder, copies to
 * readback buffers, one submit, then asynchronous reads (mapAsync). Validation and out-of-memory
 * errors are caught in error scopes around the recording and reported as the run's error.
 *
 * Error scopes are a per-device stack, so a job records synchronously from {@link withSubmission}
 * to {@link Submission.submit}: runs interleave only at awaits, never inside another run's scope.
 */
import type { Tensor, TypedArrayFor, DType } from '@tandem/core/backend';
import { isObserved, report } from '../observe.ts';
import type { BufferKind } from './buffers.ts';
import type { GpuContext } from './context.ts';

/** A float32 value in a params block (plain numbers are u32). */
export class F32 {
  constructor(readonly value: number) {}
}
export const f32 = (v: number): F32 => new F32(v);
export type Param = number | F32;

/** A pending copy to host memory: where the data waits after {@link Submission.submit}. */
export interface Readback {
  readonly buffer: GPUBuffer;
  readonly bytes: number;
}

export class Submission {
  private readonly encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | undefined;
  private readonly borrowed: Array<[BufferKind, GPUBuffer]> = [];
  private readonly pinned: GPUBuffer[] = [];
  private scopes = true;
  private failed = false;
  /** Observed runs only: when the queue finished this job's submitted work (undefined if that could not be told). */
  private queueDone: Promise<number | undefined> | undefined;

  constructor(private readonly ctx: GpuContext) {
    ctx.device.pushErrorScope('out-of-memory');
    ctx.device.pushErrorScope('validation');
    this.encoder = ctx.device.createCommandEncoder({ label: 'tandem submission' });
  }

  /** The device copy of an input tensor (uploaded now unless resident), held until the job ends. */
  input(t: Tensor): GPUBuffer {
    const b = this.ctx.input(t);
    this.pinned.push(b);
    return b;
  }

  /** A pooled storage buffer of at least `bytes` bytes for this job only. */
  temp(bytes: number): GPUBuffer {
    return this.borrow('storage', bytes);
  }

  /** Records one dispatch of `groups` workgroups, laid out as a 2-D grid when one dimension can't hold them. */
  dispatch(pipeline: GPUComputePipeline, bindings: readonly GPUBindingResource[], groups: number | readonly [number, number], params?: readonly Param[]): void {
    if (typeof groups === 'number' && groups === 0) return;
    const resources = [...bindings];
    if (params) {
      const ub = this.borrow('uniform', 0);
      this.ctx.device.queue.writeBuffer(ub, 0, packParams(params));
      resources.push({ buffer: ub });
    }
    const bindGroup = this.ctx.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: resources.map((resource, binding) => ({ binding, resource })),
    });
    const [gx, gy] = typeof groups === 'number' ? this.grid(groups) : groups;
    const pass = (this.pass ??= this.encoder.beginComputePass());
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(gx, gy);
  }

  /** Zeroes `bytes` bytes of `buffer` from `offset` (both multiples of 4). */
  clear(buffer: GPUBuffer, offset = 0, bytes = buffer.size): void {
    this.endPass();
    this.encoder.clearBuffer(buffer, offset, bytes);
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Records a copy of `bytes` bytes of `src` from `offset` into a readback buffer. */
  readback(src: GPUBuffer, offset: number, bytes: number): Readback {
    const buffer = this.borrow('readback', Math.max(4, bytes));
    this.copy(src, offset, buffer, 0, bytes);
    return { buffer, bytes };
  }

  /** Submits everything recorded; rejects with the first validation or out-of-memory error. */
  async submit(): Promise<void> {
    this.endPass();
    this.ctx.device.queue.submit([this.encoder.finish()]);
    if (isObserved()) this.watchQueue(performance.now());
    const [validation, oom] = this.popScopes();
    const errors = (await this.ctx.guard(Promise.all([validation!, oom!]))).filter((e): e is GPUError => e !== null);
    if (errors.length > 0) {
      this.failed = true;
      throw new Error(`webgpu: ${errors.map((e) => e.message).join('; ')}`);
    }
  }

  /** Waits for a readback and copies it into `dst` from element `at` (counted as a download). */
  async readInto<D extends DType>(r: Readback, dst: TypedArrayFor<D>, at: number): Promise<void> {
    if (r.bytes === 0) return;
    const start = performance.now();
    await this.map(r);
    const Ctor = dst.constructor as new (b: ArrayBuffer, o: number, n: number) => TypedArrayFor<D>;
    const n = r.bytes / dst.BYTES_PER_ELEMENT;
    (dst as unknown as Float32Array).set(new Ctor(r.buffer.getMappedRange(0, r.bytes), 0, n) as unknown as Float32Array, at);
    r.buffer.unmap();
    this.ctx.countDownload(r.bytes);
    await this.reportReadback(r.bytes, start);
  }

  /** Waits for a readback and returns its contents as u32 or f32 values. */
  async values(r: Readback, type: 'f32' | 'u32'): Promise<Float32Array | Uint32Array> {
    const start = performance.now();
    await this.map(r);
    const range = r.buffer.getMappedRange(0, r.bytes);
    const out = type === 'f32' ? new Float32Array(range).slice() : new Uint32Array(range).slice();
    r.buffer.unmap();
    this.ctx.countDownload(r.bytes);
    await this.reportReadback(r.bytes, start);
    return out;
  }

  /** Observed runs: resolves once the queue's part of this job has been reported. */
  async queueFinished(): Promise<void> {
    await this.queueDone;
  }

  /** Observed runs: reports the queue's work on this job when the device says it is done. */
  private watchQueue(submittedAt: number): void {
    this.queueDone = this.ctx.guard(this.ctx.device.queue.onSubmittedWorkDone()).then(
      () => {
        const doneAt = performance.now();
        this.ctx.reportQueue(submittedAt, doneAt);
        return doneAt;
      },
      () => undefined,
    );
  }

  /**
   * Reports a readback of `bytes` that was asked for at `askedAt`. The map waits for the queue to
   * finish the job first: that wait is the queue's time, so the transfer starts when the queue was done.
   */
  private async reportReadback(bytes: number, askedAt: number): Promise<void> {
    if (!this.queueDone) return;
    const end = performance.now();
    const doneAt = (await this.queueDone) ?? askedAt;
    report({ kind: 'readback', bytes, start: Math.min(end, Math.max(askedAt, doneAt)), end });
  }

  /** Hands a full-size output buffer over to the resident copies once its data is back on the host. */
  keep(output: Tensor, buffer: GPUBuffer | undefined): void {
    if (buffer) {
      const i = this.borrowed.findIndex(([, b]) => b === buffer);
      if (i >= 0) this.borrowed.splice(i, 1);
      this.pinned.push(buffer);
    }
    this.ctx.wrote(output, buffer);
  }

  /** Returns what the job borrowed. After a failure buffers are destroyed, not pooled: the GPU may still use them. */
  end(): void {
    if (this.scopes) void this.popScopes();
    this.endPass();
    for (const b of this.pinned) this.ctx.resident.unpin(b);
    for (const [kind, b] of this.borrowed) {
      if (this.failed || this.ctx.lost) b.destroy();
      else this.ctx.pool.release(kind, b);
    }
    this.borrowed.length = 0;
    this.pinned.length = 0;
  }

  /** Marks the job failed (so {@link end} won't pool buffers the GPU may still touch). */
  fail(): void {
    this.failed = true;
  }

  private async map(r: Readback): Promise<void> {
    try {
      await this.ctx.guard(r.buffer.mapAsync(GPUMapMode.READ, 0, Math.max(4, r.bytes)));
    } catch (error) {
      this.failed = true;
      throw error;
    }
  }

  private borrow(kind: BufferKind, bytes: number): GPUBuffer {
    const b = this.ctx.pool.acquire(kind, bytes);
    this.borrowed.push([kind, b]);
    return b;
  }

  private grid(groups: number): [number, number] {
    const max = this.ctx.limits.maxWorkgroupsPerDimension;
    if (groups <= max) return [groups, 1];
    const gy = Math.ceil(groups / max);
    if (gy > max) throw new RangeError(`internal: ${groups} workgroups exceed a ${max}×${max} grid`);
    return [Math.ceil(groups / gy), gy];
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = undefined;
  }

  private popScopes(): Promise<GPUError | null>[] {
    this.scopes = false;
    const validation = this.ctx.device.popErrorScope();
    const oom = this.ctx.device.popErrorScope();
    return [validation, oom];
  }
}

/** Packs a params block: numbers as u32 (negative ones as i32), {@link F32} values as f32. */
export function packParams(params: readonly Param[]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((params.length * 4) / 16) * 16));
  const view = new DataView(buf);
  params.forEach((p, i) => {
    if (p instanceof F32) view.setFloat32(i * 4, p.value, true);
    else if (p < 0) view.setInt32(i * 4, p, true);
    else view.setUint32(i * 4, p, true);
  });
  return buf;
}

/**
 * Runs `record` with a fresh {@link Submission} on `ctx` and returns its buffers afterwards.
 * `record` must record synchronously up to `sub.submit()`, so call this only after every await of
 * the run's setup (pipelines compiled, host-side tables built).
 */
export async function withSubmission<T>(ctx: GpuContext, record: (sub: Submission) => Promise<T>): Promise<T> {
  ctx.assertAlive();
  const sub = new Submission(ctx);
  try {
    const value = await record(sub);
    // An observed run reports its queue time before it resolves, never after.
    await sub.queueFinished();
    return value;
  } catch (error) {
    sub.fail();
    throw error;
  } finally {
    sub.end();
  }
}
