/**
 * When a running graph re-plans: a node that finished in a time far from its prediction means the
 * model was wrong for that kernel on that device, and the nodes not yet started were placed on
 * that wrong premise. A node that failed on a device that is now lost re-plans too: it goes back
 * among the nodes not yet started (unless the user named its device), placed without that device.
 */

/** Measured over predicted (or predicted over measured) beyond this means the plan was wrong. */
export const REPLAN_FACTOR = 2;
/** Differences smaller than this (ms) are noise, whatever the ratio: sub-millisecond ops vary by more than 2×. */
export const REPLAN_MIN_MS = 1;

/** One re-plan of a running graph, as `explain()` and `Tandem.replans()` report it. */
export interface Replan {
  /** The node whose run prompted it (e.g. `op3`), its kernel and device. */
  readonly after: { readonly node: string; readonly kernel: string; readonly device: string };
  readonly reason: 'slower than predicted' | 'faster than predicted' | 'device lost';
  /** What the plan predicted for that run, and what it took (ms). */
  readonly predictedMs: number;
  readonly measuredMs: number;
  /** Nodes not yet started that the new plan put on another device. */
  readonly moved: ReadonlyArray<{ readonly node: string; readonly kernel: string; readonly from: string; readonly to: string }>;
}

/** Why a run that took `measuredMs` against a prediction of `predictedMs` calls for a re-plan, or undefined if it doesn't. */
export function deviation(predictedMs: number, measuredMs: number): Replan['reason'] | undefined {
  if (!Number.isFinite(predictedMs) || !Number.isFinite(measuredMs)) return undefined;
  if (Math.abs(measuredMs - predictedMs) < REPLAN_MIN_MS) return undefined;
  if (measuredMs > REPLAN_FACTOR * predictedMs) return 'slower than predicted';
  if (measuredMs * REPLAN_FACTOR < predictedMs) return 'faster than predicted';
  return undefined;
}
