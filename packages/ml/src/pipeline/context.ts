/** What an epoch in progress needs from its pipeline, and how the pipeline cancels it. */
import { ArgumentError } from '@tandem/core';
import type { BlockResult } from './block-task.ts';
import type { EpochPlan, Span } from './plan.ts';

/**
 * Output features per row: declared by the last map, or learnt from the first block mapped and
 * then held to, so every block (and every epoch) of one chain has the same width.
 */
export class FeatureCount {
  constructor(public value: number | undefined, private readonly mapName: string | undefined) {}

  learn(features: number): void {
    if (this.value === undefined) this.value = features;
    else if (features !== this.value) {
      throw new ArgumentError(`map '${this.mapName}' result.x`, `${this.value} features per row, like the pipeline's other blocks`, features);
    }
  }
}

export interface EpochRun {
  readonly plan: EpochPlan;
  readonly sourceFeatures: number;
  readonly features: FeatureCount;
  /** Blocks worth having in flight at once. */
  readonly concurrency: number;
  /** Maps one block: into `out` when given, else onto shared memory of its own. */
  exec(span: Span, out: { x: Float32Array; y: Int32Array } | null): Promise<BlockResult>;
}

/** Work the pipeline can cancel when it is closed. */
export interface Cancellable {
  cancel(error: Error): void;
}

/** A promise settled once, from outside; marked handled so an early, unawaited call never reports an unhandled rejection. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  settled = false;
  private res!: (value: T) => void;
  private rej!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.res = resolve;
      this.rej = reject;
    });
    this.promise.catch(() => undefined);
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.res(value);
  }

  reject(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rej(error);
  }
}
