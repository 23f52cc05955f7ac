/**
 * Records what the executor did — one span per task or chunk, per device — for `explain()` and
 * for `trace()`, which writes Chrome's trace-event format (open it in Perfetto or chrome://tracing).
 */
export interface Span {
  /** The graph (one batch of ops) it belonged to. */
  readonly job: number;
  readonly track: string;
  readonly name: string;
  /** ms since the recorder started. */
  readonly start: number;
  readonly duration: number;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface OpenSpan {
  end(args?: Record<string, unknown>): void;
}

/** Most spans kept: a long session keeps its recent history, in bounded memory. */
const MAX_SPANS = 100_000;

/** One planned graph: what it computed, for the single-device comparison in `explain()`. */
export interface Job {
  readonly id: number;
  readonly nodes: ReadonlyArray<{ readonly key: string; readonly elements: number }>;
}

export class Recorder {
  private readonly origin = performance.now();
  private readonly list: Span[] = [];
  private readonly jobList: Job[] = [];

  /** Starts a job; spans begun from now on belong to it. */
  beginJob(nodes: Job['nodes']): number {
    const id = this.jobList.length;
    this.jobList.push({ id, nodes });
    if (this.jobList.length > 1000) this.jobList.splice(0, this.jobList.length - 1000);
    return id;
  }

  lastJob(): Job | undefined {
    return this.jobList.at(-1);
  }

  begin(track: string, name: string): OpenSpan {
    const start = performance.now() - this.origin;
    const job = this.jobList.at(-1)?.id ?? -1;
    let ended = false;
    return {
      end: (args = {}) => {
        if (ended) return;
        ended = true;
        this.list.push({ job, track, name, start, duration: performance.now() - this.origin - start, args });
        if (this.list.length > MAX_SPANS) this.list.splice(0, this.list.length - MAX_SPANS);
      },
    };
  }

  spans(): readonly Span[] {
    return this.list;
  }

  /** Chrome trace-event JSON: one track (thread) per device, complete ('X') events in µs. */
  toChromeTrace(): { traceEvents: object[]; displayTimeUnit: 'ms' } {
    const tracks = [...new Set(this.list.map((s) => s.track))];
    const tid = new Map(tracks.map((t, i) => [t, i + 1]));
    const events: object[] = [{ name: 'process_name', ph: 'M', pid: 1, args: { name: 'tandem' } }];
    for (const t of tracks) events.push({ name: 'thread_name', ph: 'M', pid: 1, tid: tid.get(t), args: { name: t } });
    for (const s of this.list) {
      events.push({
        name: s.name,
        cat: s.track.startsWith('transfer') ? 'transfer' : 'kernel',
        ph: 'X',
        pid: 1,
        tid: tid.get(s.track),
        ts: Math.round(s.start * 1000),
        dur: Math.max(1, Math.round(s.duration * 1000)),
        args: s.args,
      });
    }
    return { traceEvents: events, displayTimeUnit: 'ms' };
  }
}
