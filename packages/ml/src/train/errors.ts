/** Errors of {@link train} beside the ArgumentError of bad options. */
import { TandemError } from '@tandem/core';

/** What went non-finite: the step's loss, its summed gradient, or the optimizer's update (weights or moments overflowed). */
export type NonFiniteKind = 'loss' | 'gradient' | 'update';

/** Where a step went non-finite (the fields of {@link NonFiniteError}, and of each of `TrainResult.skippedSteps`). */
export interface NonFiniteStep {
  readonly epoch: number;
  /** 1-based step within the epoch, as `onStep` counts it. */
  readonly step: number;
  /** Steps since training began (counting resumed checkpoints). */
  readonly globalStep: number;
  readonly kind: NonFiniteKind;
  /** The step's batch: row indices into the epoch's training set (`data.train`, or the pipeline's epoch). */
  readonly rows: readonly number[];
}

/**
 * A step of {@link train} met NaN or ±Infinity (with `onNonFinite: 'error'`, the default): training
 * stopped before that step touched the weights. The inputs were checked up front, so the usual
 * cause is a learning rate too large (the weights overflow) or a model that computes NaN on
 * some rows (`rows` lists the step's batch).
 *
 * @example
 * ```ts
 * try { await train(options); }
 * catch (e) { if (e instanceof NonFiniteError) console.log(e.epoch, e.step, e.kind, e.rows.slice(0, 5)); }
 * ```
 */
export class NonFiniteError extends TandemError implements NonFiniteStep {
  readonly epoch: number;
  readonly step: number;
  readonly globalStep: number;
  readonly kind: NonFiniteKind;
  readonly rows: readonly number[];
  constructor(at: NonFiniteStep) {
    const hint = at.kind === 'update' ? ': the weights overflowed; lower the learning rate' : '';
    super('ERR_TANDEM_NON_FINITE', `training stopped at epoch ${at.epoch}, step ${at.step} (global step ${at.globalStep}): the ${at.kind} is not finite${hint}. Pass onNonFinite: 'skip' to skip such steps`);
    this.epoch = at.epoch;
    this.step = at.step;
    this.globalStep = at.globalStep;
    this.kind = at.kind;
    this.rows = at.rows;
  }
}
