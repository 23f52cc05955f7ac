/**
 * The pipe between two stages: the upstream stage runs ahead of the downstream one — so the two
 * overlap, a CPU stage decoding while a GPU stage computes — but only while the batches held in
 * all of a run's pipes together stay under one budget: a fast stage waits for a slow one instead
 * of filling memory (Ray Data's streaming executor budgets its operators the same way). The
 * budget is shared, not split per pipe, so a batch bigger than a pipe's share still flows; an
 * empty pipe always takes one batch, else a batch larger than the budget would stop the run. So
 * the bound is the budget plus at most one batch per pipe.
 */
import type { Batch } from '../batch.ts';
import { batchBytes } from '../batch.ts';

/** Counts the bytes held in every pipe of one run against its budget, and the peak. */
export class QueueMeter {
  bytes = 0;
  peak = 0;
  /** The largest single batch seen: the bound's slack is one of these per pipe. */
  largestBatch = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly budget: number) {}

  add(n: number): void {
    this.bytes += n;
    if (this.bytes > this.peak) this.peak = this.bytes;
    if (n < 0) for (const wake of [...this.waiting]) wake();
  }

  /** Resolves once the pipes hold less than the budget (at once if they do). */
  async room(): Promise<void> {
    while (this.bytes >= this.budget) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiting.delete(wake);
          resolve();
        };
        this.waiting.add(wake);
      });
    }
  }
}

/**
 * Yields `input`'s batches, pulling ahead in the background while the run's pipes hold less than
 * the meter's budget, or this pipe holds nothing. Stopping early (break, error) stops the
 * upstream too; an upstream error reaches the consumer at the batch where it happened.
 */
export async function* readAhead(input: AsyncIterable<Batch>, meter: QueueMeter): AsyncGenerator<Batch> {
  const it = input[Symbol.asyncIterator]();
  const queue: { batch: Batch; bytes: number }[] = [];
  let done = false;
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  let stopped = false;
  const producer = (async () => {
    try {
      while (!stopped) {
        if (queue.length > 0 && meter.bytes >= meter.budget) {
          // Whichever comes first: room in the budget, or this pipe drained by its consumer.
          await Promise.race([meter.room(), new Promise<void>((r) => (wakeProducer = r))]);
          continue;
        }
        const next = await it.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const bytes = batchBytes(next.value);
        queue.push({ batch: next.value, bytes });
        if (bytes > meter.largestBatch) meter.largestBatch = bytes;
        meter.add(bytes);
        wakeConsumer?.();
      }
    } catch (error) {
      failure = { error };
    } finally {
      done = true;
      wakeConsumer?.();
    }
  })();
  try {
    for (;;) {
      if (queue.length > 0) {
        const { batch, bytes } = queue.shift()!;
        meter.add(-bytes);
        wakeProducer?.();
        yield batch;
        continue;
      }
      if (done) {
        if (failure) throw failure.error;
        return;
      }
      await new Promise<void>((r) => (wakeConsumer = r));
      wakeConsumer = undefined;
    }
  } finally {
    stopped = true;
    wakeProducer?.();
    for (const q of queue.splice(0)) meter.add(-q.bytes);
    await producer;
    // Stopped early: let the upstream release what it holds (files, its own pipes).
    if (!exhausted && !failure) await it.return?.();
  }
}
