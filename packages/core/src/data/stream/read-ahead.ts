/**
 * The pipe between two stages: the upstream stage runs ahead of the downstream one — so the two
 * overlap, a CPU stage decoding while a GPU stage computes — but at most `maxBytes` of batches
 * ahead: a fast stage waits for a slow one instead of filling memory (Ray Data's streaming
 * executor does the same with its per-operator budgets).
 */
import type { Batch } from '../batch.ts';
import { batchBytes } from '../batch.ts';

/** Counts bytes held in every pipe of one run, to report (and test) the peak. */
export class QueueMeter {
  bytes = 0;
  peak = 0;
  add(n: number): void {
    this.bytes += n;
    if (this.bytes > this.peak) this.peak = this.bytes;
  }
}

/**
 * Yields `input`'s batches, pulling ahead in the background while fewer than `maxBytes` are held.
 * A batch bigger than `maxBytes` is still passed, alone. Stopping early (break, error) stops the
 * upstream too; an upstream error reaches the consumer at the batch where it happened.
 */
export async function* readAhead(input: AsyncIterable<Batch>, maxBytes: number, meter: QueueMeter): AsyncGenerator<Batch> {
  const it = input[Symbol.asyncIterator]();
  const queue: { batch: Batch; bytes: number }[] = [];
  let held = 0;
  let done = false;
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  let stopped = false;
  const producer = (async () => {
    try {
      while (!stopped) {
        if (held >= maxBytes && queue.length > 0) {
          await new Promise<void>((r) => (wakeProducer = r));
          continue;
        }
        const next = await it.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const bytes = batchBytes(next.value);
        queue.push({ batch: next.value, bytes });
        held += bytes;
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
        held -= bytes;
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
