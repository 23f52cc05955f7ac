/**
 * The per-step record of an epoch in shared memory: what each replica slot computed at each step
 * (examples, share-scaled loss), written by the replicas, read by the main thread for `onStep`,
 * the epoch's loss and the slots' shares. Steps re-run after a failure are cleared first, so
 * nothing is counted twice.
 */
import type { ReplicaBuffers } from './types.ts';

export class StepLedger {
  private readonly slots: number;

  constructor(private readonly buffers: Pick<ReplicaBuffers, 'stepLoss' | 'stepCount'>, slots: number) {
    this.slots = slots;
  }

  /** Forgets steps `from` onwards (all of them by default). */
  clear(from = 0): void {
    this.buffers.stepLoss.fill(0, from * this.slots);
    this.buffers.stepCount.fill(0, from * this.slots);
  }

  /** Forgets step `k` alone: a skipped step trained nothing. */
  forget(k: number): void {
    this.buffers.stepLoss.fill(0, k * this.slots, (k + 1) * this.slots);
    this.buffers.stepCount.fill(0, k * this.slots, (k + 1) * this.slots);
  }

  /** Step k: examples per slot, and the batch's summed loss. */
  step(k: number): { counts: number[]; lossSum: number } {
    const at = k * this.slots;
    let lossSum = 0;
    for (let s = 0; s < this.slots; s++) lossSum += this.buffers.stepLoss[at + s]!;
    return { counts: Array.from(this.buffers.stepCount.subarray(at, at + this.slots)), lossSum };
  }

  /** Everything recorded: examples per slot and the summed loss. */
  totals(): { processed: number[]; lossSum: number } {
    const processed = new Array<number>(this.slots).fill(0);
    let lossSum = 0;
    this.buffers.stepCount.forEach((c, i) => (processed[i % this.slots]! += c));
    this.buffers.stepLoss.forEach((l) => (lossSum += l));
    return { processed, lossSum };
  }
}
