/** An epoch as batches: each batch is one block, mapped ahead of the consumer by at most `prefetch` batches. */
import { Tensor } from '@tandem/core';
import type { Cancellable, EpochRun } from './context.ts';
import type { Batch } from './types.ts';

export class EpochIterator implements AsyncIterableIterator<Batch>, Cancellable {
  private nextIndex = 0;
  private dispatched = 0;
  private readonly pending = new Map<number, Promise<Batch>>();
  private finished = false;
  private failure: Error | undefined;
  private rejectWaiting: ((error: Error) => void) | undefined;
  private readonly cancelled: Promise<never>;

  constructor(
    private readonly ctx: EpochRun,
    private readonly prefetch: number,
    private readonly onFinish: (it: EpochIterator) => void,
  ) {
    this.cancelled = new Promise<never>((_, reject) => (this.rejectWaiting = reject));
    this.cancelled.catch(() => undefined);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Batch, undefined>> {
    const result = this.advance();
    // Like an early materialize(): a next() held while the pipeline closes must not report an unhandled rejection.
    result.catch(() => undefined);
    return result;
  }

  private async advance(): Promise<IteratorResult<Batch, undefined>> {
    if (this.failure) {
      const failure = this.failure;
      this.finish();
      throw failure;
    }
    if (this.finished || this.nextIndex >= this.ctx.plan.blocks.length) {
      this.finish();
      return { done: true, value: undefined };
    }
    const index = this.nextIndex++;
    this.fill(index + this.prefetch);
    const batch = this.pending.get(index)!;
    this.pending.delete(index);
    try {
      // A close() must reject a consumer that is waiting on a batch still being mapped.
      return { done: false, value: await Promise.race([batch, this.cancelled]) };
    } catch (error) {
      this.finish();
      throw error;
    }
  }

  /** Stops early (`break` in for-await): nothing more is mapped; blocks already running finish unseen. */
  async return(): Promise<IteratorResult<Batch, undefined>> {
    this.finish();
    return { done: true, value: undefined };
  }

  cancel(error: Error): void {
    if (this.finished) return;
    this.failure = error;
    this.rejectWaiting?.(error);
  }

  private fill(upTo: number): void {
    const { blocks } = this.ctx.plan;
    while (this.dispatched <= upTo && this.dispatched < blocks.length) {
      const index = this.dispatched++;
      const batch = this.map(index);
      // Batches prefetched and then abandoned (break, an error) must not be reported as unhandled.
      batch.catch(() => undefined);
      this.pending.set(index, batch);
    }
  }

  private async map(index: number): Promise<Batch> {
    const span = this.ctx.plan.blocks[index]!;
    const result = await this.ctx.exec(span, null);
    this.ctx.features.learn(result.features);
    // The block arrived on a SharedArrayBuffer; Tensor's type names ArrayBuffer only.
    return {
      x: new Tensor('float32', [span.rows, result.features], result.x as Float32Array<ArrayBuffer>),
      y: new Tensor('int32', [span.rows], result.y as Int32Array<ArrayBuffer>),
      index,
      epoch: this.ctx.plan.epoch,
    };
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = undefined;
    this.pending.clear();
    this.onFinish(this);
  }
}
