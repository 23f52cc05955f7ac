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
 * `worker 1` or `queue`) or a transfer (`lane` is `transfers`; `args.bytes` says how much).
 */
export interface Activity {
  /** The graph run it belonged to. */
  readonly graph: number;
  readonly device: string;
  readonly lane: string;
  readonly cat: 'compute' | 'transfer';
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

