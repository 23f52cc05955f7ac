/**
 * Records what the executor did — one span per task or chunk, per device — for `explain()` and
 * for `trace()`, which writes Chrome's trace-event format (open it in Perfetto or chrome://tracing).
 * Inside those spans it also records what the backends reported ({@link Activity}): which CPU
 * worker computed which sub-range, when a GPU queue ran, each upload and readback.
 */
import { chromeTrace, type ChromeTrace } from './chrome-trace.ts';
import type { Replan } from './replan.ts';

/** One task or chunk as the executor ran it on one device: what `explain()` counts. */
export interface Span {
  /** The graph (one batch of ops) it belonged to. */
  readonly job: number;
  /** The device id. */
  readonly track: string;
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
  readonly job: number;
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

/** Most spans (and, separately, activities) kept: a long session keeps its recent history, in bounded memory. */
const MAX_SPANS = 100_000;

/** One planned graph: what it computed, for the single-device comparison in `explain()`, and how its plan changed. */
export interface Job {
  readonly id: number;
  readonly nodes: ReadonlyArray<{ readonly key: string; readonly elements: number }>;
  /** Re-plans made while it ran, in order. */
  readonly replans: Replan[];
}

export class Recorder {
  private readonly origin = performance.now();
  private readonly list: Span[] = [];
  private readonly activityList: Activity[] = [];
  private readonly jobList: Job[] = [];

  /** Starts a job; spans begun from now on belong to it. */
  beginJob(nodes: Job['nodes']): number {
    const id = (this.jobList.at(-1)?.id ?? -1) + 1;
    this.jobList.push({ id, nodes, replans: [] });
    if (this.jobList.length > 1000) this.jobList.splice(0, this.jobList.length - 1000);
    return id;
  }

  lastJob(): Job | undefined {
    return this.jobList.at(-1);
  }

  /** Records a re-plan of the current job. */
  replan(event: Replan): void {
    this.jobList.at(-1)?.replans.push(event);
  }

  begin(track: string, name: string): OpenSpan {
    const start = performance.now() - this.origin;
    const job = this.currentJob();
    let ended = false;
    return {
      end: (args = {}) => {
        if (ended) return;
        ended = true;
        push(this.list, { job, track, name, start, duration: performance.now() - this.origin - start, args });
      },
    };
  }

  /**
   * Records something a device did between `start` and `end` (`performance.now()` ms, as
   * backends report them) on one of its lanes.
   */
  activity(device: string, lane: string, cat: Activity['cat'], name: string, start: number, end: number, args: Record<string, unknown> = {}): void {
    const from = start - this.origin;
    push(this.activityList, { job: this.currentJob(), device, lane, cat, name, start: from, duration: Math.max(0, end - start), args });
  }

  spans(): readonly Span[] {
    return this.list;
  }

  activities(): readonly Activity[] {
    return this.activityList;
  }

  /**
   * Chrome trace-event JSON: a process per device, and in it a track (thread) per lane — `calls`
   * (what the executor ran there), one per CPU worker or GPU queue, and `transfers`.
   */
  toChromeTrace(): ChromeTrace {
    return chromeTrace(this.list, this.activityList);
  }

  private currentJob(): number {
    return this.jobList.at(-1)?.id ?? -1;
  }
}

function push<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > MAX_SPANS) list.splice(0, list.length - MAX_SPANS);
}
