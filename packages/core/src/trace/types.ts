/**
 * What the trace holds: spans the executor ran on devices, what the backends reported inside them,
 * and the planned graphs they belonged to. Read by `explain()` and the Chrome trace.
 */
import type { Replan } from '../planner/replan.ts';

/** One task or chunk as the executor ran it on one device: what `explain()` counts. */
export interface Span {
  /** The graph run (one batch of ops) it belonged to. */
  readonly graph: number;
  /** The device id. */
  readonly track: string;
  /** The kernel it ran, as the cost model keys it (`matmul`, `user:mandelbrot`). */
  readonly kernel: string;
  /** What the trace shows: the kernel and its range, or what the span was for (`calibrate`). */
  readonly name: string;
  /** ms since the recorder started. */
  readonly start: number;
  readonly duration: number;
  readonly args: Readonly<Record<string, unknown>>;
}

/**
 * What a device did inside a span, as its backend reported it: a lane's compute (`lane` is e.g.
 * `worker 1` or `queue`) or a transfer (`lane` is `transfers`; `args.bytes` says how much). A
 * training replica's step is three: `compute` (its share's gradient), `wait` (at the barrier for
 * the others) and `allreduce` (summing every replica's gradient and applying the optimizer).
 */
export interface Activity {
  /** The graph run it belonged to. */
  readonly graph: number;
  readonly device: string;
  readonly lane: string;
  readonly cat: 'compute' | 'transfer' | 'wait' | 'allreduce';
  readonly name: string;
  /** ms since the recorder started. */
  readonly start: number;
  readonly duration: number;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface OpenSpan {
  end(args?: Record<string, unknown>): void;
}

/** One planned graph: what it computed, for the single-device comparison in `explain()`, and how its plan changed. */
export interface GraphRun {
  readonly id: number;
  readonly nodes: ReadonlyArray<{ readonly key: string; readonly elements: number }>;
  /** Re-plans made while it ran, in order. */
  readonly replans: Replan[];
}


/** One replica of a training run, as `explain()` reports it; the totals grow as steps complete. */
export interface TrainingReplica {
  readonly slot: number;
  /** The tfjs engine it trains on (`wasm`, `webgpu`, …) and the session device that runs it. */
  readonly engine: string;
  readonly device: string;
  /** The session pool worker (slot index) it runs on, if it runs on one. */
  readonly worker: number | undefined;
  /** The planner's share of the global batch at the first step, and its predicted compute ms per step. */
  readonly plannedShare: number;
  readonly predictedStepMs: number | undefined;
  steps: number;
  examples: number;
  computeMs: number;
  waitMs: number;
  allreduceMs: number;
}

/** A training run: where its replicas went, what was left out and why, and how its steps went. */
export interface TrainingRun {
  readonly id: number;
  /** The model's signature (its shapes' hash) and the global batch. */
  readonly signature: string;
  readonly batchSize: number;
  readonly replicas: TrainingReplica[];
  readonly excluded: ReadonlyArray<{ readonly engine: string; readonly device: string; readonly reason: string }>;
}
