/**
 * Records what the executor did — one span per task or chunk, per device — for `explain()` and
 * for `trace()`, which writes Chrome's trace-event format (open it in Perfetto or chrome://tracing).
 * Inside those spans it also records what the backends reported ({@link Activity}): which CPU
 * worker computed which sub-range, when a GPU queue ran, each upload and readback.
 */
import type { Replan } from '../planner/replan.ts';
import type { Activity, GraphRun, OpenSpan, Span, TrainingRun } from './types.ts';

/** Most spans (and, separately, activities) kept: a long session keeps its recent history, in bounded memory. */
const MAX_SPANS = 100_000;

export class Recorder {
  private readonly origin = performance.now();
  private readonly list: Span[] = [];
  private readonly activityList: Activity[] = [];
  private readonly graphList: GraphRun[] = [];
  private readonly trainingList: TrainingRun[] = [];

  /** Starts a graph run; spans begun from now on belong to it. */
  beginGraph(nodes: GraphRun['nodes']): number {
    const id = (this.graphList.at(-1)?.id ?? -1) + 1;
    this.graphList.push({ id, nodes, replans: [] });
    if (this.graphList.length > 1000) this.graphList.splice(0, this.graphList.length - 1000);
    return id;
  }

  lastGraph(): GraphRun | undefined {
    return this.graphList.at(-1);
  }

  /** Starts a training run's record; the trainer adds to its replicas' totals as steps complete. */
  beginTraining(run: Omit<TrainingRun, 'id'>): TrainingRun {
    const record = { ...run, id: (this.trainingList.at(-1)?.id ?? -1) + 1 };
    this.trainingList.push(record);
    if (this.trainingList.length > 100) this.trainingList.splice(0, this.trainingList.length - 100);
    return record;
  }

  lastTraining(): TrainingRun | undefined {
    return this.trainingList.at(-1);
  }

  /** Records a re-plan of the current graph run. */
  replan(event: Replan): void {
    this.graphList.at(-1)?.replans.push(event);
  }

  /** Opens a span of `kernel` on device `track`; `name` (default: the kernel) is what the trace shows. */
  begin(track: string, kernel: string, name: string = kernel): OpenSpan {
    const start = performance.now() - this.origin;
    const graph = this.currentGraph();
    let ended = false;
    return {
      end: (args = {}) => {
        if (ended) return;
        ended = true;
        push(this.list, { graph, track, kernel, name, start, duration: performance.now() - this.origin - start, args });
      },
    };
  }

  /**
   * Records something a device did between `start` and `end` (`performance.now()` ms, as
   * backends report them) on one of its lanes.
   */
  activity(device: string, lane: string, cat: Activity['cat'], name: string, start: number, end: number, args: Record<string, unknown> = {}): void {
    const from = start - this.origin;
    push(this.activityList, { graph: this.currentGraph(), device, lane, cat, name, start: from, duration: Math.max(0, end - start), args });
  }

  spans(): readonly Span[] {
    return this.list;
  }

  /** Spans that began between `from` and `to` (`performance.now()` ms): what one pipeline run's kernels did. */
  spansBetween(from: number, to: number): Span[] {
    return this.list.filter((s) => s.start >= from - this.origin && s.start <= to - this.origin);
  }

  activities(): readonly Activity[] {
    return this.activityList;
  }

  private currentGraph(): number {
    return this.graphList.at(-1)?.id ?? -1;
  }
}

function push<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > MAX_SPANS) list.splice(0, list.length - MAX_SPANS);
}
