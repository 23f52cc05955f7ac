/**
 * A cluster session's tasks: sent to the cluster, or — when the session has workers and the
 * measured costs say moving the arguments costs more than it saves — run on this machine's
 * workers without going through Redis (`placement.ts`). Either way the run times are recorded,
 * per task export, so that the next call is placed on measurements.
 */
import type { BulkOptions, Settled } from '../pool/bulk.ts';
import { runTasks, streamTasks } from '../pool/bulk.ts';
import { moduleName, type ModuleSpecifier } from '../pool/module-ref.ts';
import type { TaskOptions, TaskRun } from '../pool/options.ts';
import type { WorkerPool } from '../pool/pool.ts';
import type { CostModel } from '../planner/cost-model.ts';
import type { ClusterClient } from './client.ts';
import { binaryBytes, CLUSTER_LINK, type LinkCosts } from './link.ts';
import { placeCall, type Placement } from './placement.ts';

/** The cost model's kernel key for the tasks of one export (their run time on one worker, by task count). */
export const taskKernel = (module: string, exportName: string) => `task:${module}#${exportName}`;
/** Redis round trips a job costs before its result is back: add, take, complete, and the event. */
const JOB_ROUND_TRIPS = 4;
/** The cost model's device for this machine's workers running tasks. */
export const WORKERS_DEVICE = 'workers';

/** Sums the run time of a call's task attempts (`onRun`), then records it. */
export function timed<O extends TaskOptions>(options: O, record: (ms: number) => void): { options: O; done(): void } {
  let total = 0;
  const onRun = (run: TaskRun) => {
    total += run.end - run.start;
    options.onRun?.(run);
  };
  return { options: { ...options, onRun }, done: () => void (total > 0 && record(total)) };
}

export class ClusterRouter {
  link: LinkCosts | undefined;
  /** The last call placed, for explain(). */
  last: (Placement & { call: string }) | undefined;

  constructor(
    readonly client: ClusterClient,
    private readonly pool: WorkerPool,
    private readonly costs: CostModel,
    /** Whether this session runs tasks itself (it has workers and a node of its own). */
    private readonly ownNode: () => string | undefined,
  ) {}

  /** Measures the link (see `link.ts`); a failure leaves it unmeasured, so calls go to the cluster. */
  async calibrate(): Promise<void> {
    this.link = await this.client.calibrateLink(this.costs).catch(() => undefined);
  }

  private place(module: ModuleSpecifier, exportName: string, argsList: readonly (readonly unknown[])[]): { placement: Placement; key: string } {
    const own = this.ownNode();
    const key = taskKernel(moduleName(module), exportName);
    if (own === undefined) return { placement: { where: 'cluster', why: 'no workers here' }, key };
    const argBytes = binaryBytes(argsList);
    const remoteWorkers = this.client.nodes().filter((n) => n.id !== own).reduce((s, n) => s + n.workers, 0);
    const placement = placeCall({
      tasks: argsList.length, argBytes, localWorkers: this.pool.liveWorkers, remoteWorkers,
      computeMs: this.costs.predictKernel(key, WORKERS_DEVICE, argsList.length),
      transferMs: this.link ? this.costs.predictTransfer(CLUSTER_LINK, argBytes) : undefined,
      latencyMs: JOB_ROUND_TRIPS * (this.link?.roundTripMs ?? 0),
    });
    this.last = { ...placement, call: `${exportName} × ${argsList.length}` };
    return { placement, key };
  }

  private record(key: string, tasks: number): (ms: number) => void {
    return (ms) => void this.costs.recordKernel(key, WORKERS_DEVICE, tasks, ms);
  }

  /** Runs `tasks` tasks on this machine's pool through `go`, recording their run time under `key`. */
  private async local<O extends TaskOptions, R>(key: string, tasks: number, options: O, go: (options: O) => Promise<R>): Promise<R> {
    const t = timed(options, this.record(key, tasks));
    try {
      return await go(t.options);
    } finally {
      t.done();
    }
  }

  async run<T>(module: ModuleSpecifier, exportName: string, args: readonly unknown[], options: TaskOptions): Promise<T> {
    const { placement, key } = this.place(module, exportName, [args]);
    if (placement.where === 'cluster') return this.client.run<T>(module, exportName, args, options);
    return this.local(key, 1, options, (o) => this.pool.run<T>(module, exportName, args, o));
  }

  async runMany<T>(module: ModuleSpecifier, exportName: string, argsList: readonly (readonly unknown[])[], options: BulkOptions): Promise<T[]> {
    const { placement, key } = this.place(module, exportName, argsList);
    if (placement.where === 'cluster') return this.client.runMany<T>(module, exportName, argsList, options);
    return this.local(key, argsList.length, options, (o) => runTasks<T>(this.pool, module, exportName, argsList, o));
  }

  async *stream<T>(module: ModuleSpecifier, exportName: string, argsList: readonly (readonly unknown[])[], options: BulkOptions): AsyncGenerator<Settled<T>, void, undefined> {
    const { placement, key } = this.place(module, exportName, argsList);
    if (placement.where === 'cluster') return yield* this.client.stream<T>(module, exportName, argsList, options);
    const t = timed(options, this.record(key, argsList.length));
    try {
      yield* streamTasks<T>(this.pool, module, exportName, argsList, t.options);
    } finally {
      t.done();
    }
  }
}
