import { writeFile } from 'node:fs/promises';
import type { Backend, BackendName, DeviceDescription } from '../backend/contract.ts';
import { ArgumentError } from '../errors.ts';
import { hostCpuDevice } from '../backend/host-cpu.ts';
import { openBackends, type UnavailableBackend } from '../backend/open.ts';
import { pickBackend } from '../executor/pick-backend.ts';
import { chromeTrace } from '../trace/chrome-trace.ts';
import { explainSpans } from '../trace/explain.ts';
import { explainTraining } from '../trace/explain-training.ts';
import { explainPipeline } from '../trace/explain-pipeline.ts';
import { explainCluster } from '../trace/explain-cluster.ts';
import type * as arrow from 'apache-arrow';
import { Table } from '../data/table.ts';
import type { ReadOptions } from '../data/read/source.ts';
import type { DataSession, PipelineRun } from '../data/stages/stage.ts';
import { makeOps, type OpOptions, type Ops } from './ops.ts';
import { Recorder } from '../trace/recorder.ts';
import type { Span } from '../trace/types.ts';
import { registerInternals } from './internals.ts';
import { runGraph } from '../executor/graph.ts';
import { runRange } from '../executor/run-range.ts';
import type { GraphNode } from '../graph/graph.ts';
import { calibrateTransfers } from '../planner/calibrate.ts';
import type { Replan } from '../planner/replan.ts';
import { POLICIES, type Policy } from '../planner/policy.ts';
import { costCachePath, loadCostModel, saveCostModel } from '../planner/cost-cache.ts';
import { CostModel } from '../planner/cost-model.ts';
import { kernelCall } from '../kernel/check.ts';
import type { KernelCall } from '../kernel/types.ts';
import { userCall, type KernelOutput, type UserKernel, type UserKernelArg } from '../kernel/user.ts';
import { runTasks, streamTasks, type BulkOptions, type Settled } from '../pool/bulk.ts';
import type { ModuleSpecifier } from '../pool/module-ref.ts';
import type { PoolOptions, TaskOptions } from '../pool/options.ts';
import { WorkerPool, type ProgressEvent } from '../pool/pool.ts';
import { hostname } from 'node:os';
import { resolveCluster, type ClusterOptions, type ResolvedCluster } from '../cluster/options.ts';
import type { ClusterClient } from '../cluster/client.ts';
import type { ClusterRouter } from '../cluster/router.ts';
import type { ClusterNode } from '../cluster/node.ts';
import type { PoolStats } from '../pool/stats.ts';
import type { NodeInfo } from '../cluster/heartbeat.ts';

/** {@link Tandem.stats}: the session's own pool, and on a cluster each node as last seen (every few seconds). */
export interface SessionStats extends PoolStats {
  /** The cluster's live nodes: their jobs, and their sessions' task counts, run times and utilisation. */
  readonly nodes?: readonly NodeInfo[];
}
import type { Tensor } from '../tensor/tensor.ts';

/** Options of {@link Tandem.create}. */
export interface TandemOptions extends PoolOptions {
  /**
   * Backends the session may use. Named ones must open, or `create` rejects saying why; by
   * default every backend that works on this machine is opened and the others are listed in
   * {@link Tandem.unavailable}. `[]` opens none: a session of workers for `run` only.
   */
  backends?: BackendName[];
  /**
   * How data-parallel work is placed: `auto` (default) splits it across every healthy device by
   * predicted throughput; `cpu` / `gpu` use only devices of that kind; `eager` splits without a
   * model (the first free device takes the next chunk).
   */
  policy?: Policy;
  /** Where learned costs persist (a file path), or `false` to keep them in memory only. Default: the user's cache directory. */
  costCache?: string | false;
  /**
   * A cluster to spread `run`, `runMany` and `stream` over (nodes join with `npx tandem worker`).
   * With workers this session is a node too, for its own tasks; with `workers: 0` it only submits
   * (it still starts one idle worker thread, which the session's other APIs expect).
   */
  cluster?: ClusterOptions;
}

/** The trace's process for table pipelines: a track per stage, a slice per batch. */
const DATA_TRACK = 'data pipeline';

/** Calls smaller than this (elements) run on one device: splitting would cost more than it saves. */
export const SPLIT_MIN_ELEMENTS = 1 << 15;

/** A compute device the session can use. */
export type DeviceInfo = DeviceDescription;

/** Options of {@link Tandem.map}. */
export interface MapOptions extends OpOptions {
  /** Output size in gpu.js order: `[x]`, `[x, y]` or `[x, y, z]`; the tensor's shape is the reverse. */
  output: KernelOutput;
}

/**
 * A Tandem session: the entry point. It owns the workers and the devices, and settles every
 * task it accepts.
 *
 * @example
 * ```ts
 * import { Tandem } from '@tandem/core';
 * await using td = await Tandem.create({ workers: 2 });
 * const r = await td.run(new URL('./tasks.ts', import.meta.url), 'simulate', [42], { timeoutMs: 5_000, retries: 2 });
 * ```
 */
export class Tandem {
  /**
   * Registered kernels as tensor operations (the built-ins by name, any registered kernel through
   * `ops.call`), each on the session's first backend that has it (or `options.device`).
   *
   * @example
   * ```ts
   * const c = td.ops.matmul(a, b, { device: 'webgpu' });
   * console.log(await c.values());
   * ```
   */
  readonly ops: Ops;

  /** What the session has learned of run and transfer times (persisted between runs). */
  readonly costs: CostModel;
  private readonly recorder = new Recorder();
  private readonly pendingNodes: GraphNode[] = [];
  private nodeCount = 0;
  /** Graphs run one after another: a later one may read what an earlier one computes. */
  private running: Promise<void> = Promise.resolve();
  /** Costs were learned outside the graphs (training): save them on close even with no backend. */
  private costsDirty = false;

  private constructor(
    private readonly pool: WorkerPool,
    private readonly backends: Backend[],
    /** Backends that could not open here, with the reason and the fix. */
    readonly unavailable: readonly UnavailableBackend[],
    private readonly policy: Policy,
    private readonly costPath: string | undefined,
  ) {
    this.costs = costPath ? loadCostModel(costPath) : new CostModel();
    this.ops = makeOps((kernel, args, params, options) => this.launch(kernelCall(kernel, args, params), options?.device));
    registerInternals(this, {
      pool, costs: this.costs, recorder: this.recorder, devices: () => this.devices(), costsChanged: () => void (this.costsDirty = true),
      cluster: () => this.cluster?.client,
      runRange: (call, range) => runRange(call, range, { backends: this.backends, costs: this.costs, policy: this.policy, recorder: this.recorder }),
    });
  }

  /**
   * Starts a session: its workers, then its backends. Rejects with `ArgumentError` for bad
   * options, `WorkerStartError` if workers can't start, `BackendUnavailableError` if a backend
   * named in `options.backends` can't open here.
   *
   * @example
   * ```ts
   * const td = await Tandem.create({ workers: 2, backends: ['cpu', 'webgpu'] });
   * ```
   */
  static async create(options: TandemOptions = {}): Promise<Tandem> {
    const policy = options.policy ?? 'auto';
    if (!POLICIES.includes(policy)) throw new ArgumentError('policy', `one of ${POLICIES.join(', ')}`, policy);
    if (options.costCache !== undefined && options.costCache !== false && (typeof options.costCache !== 'string' || options.costCache === '')) {
      throw new ArgumentError('costCache', 'a file path, or false to keep costs in memory', options.costCache);
    }
    const submitOnly = options.cluster !== undefined && options.workers === 0;
    // Bad cluster options fail before anything starts.
    const cluster = options.cluster === undefined ? undefined : resolveCluster(options.cluster);
    const pool = new WorkerPool(submitOnly ? { ...options, workers: 1 } : options);
    let td: Tandem | undefined;
    try {
      await pool.ready();
      const { backends, unavailable } = await openBackends(options.backends ?? (submitOnly ? [] : undefined), pool);
      const costPath = options.costCache === false ? undefined : options.costCache ?? costCachePath(backends.map((b) => b.device.description));
      td = new Tandem(pool, backends, unavailable, policy, costPath);
      if (cluster) await td.joinCluster(options.cluster!, cluster, submitOnly);
      return td;
    } catch (error) {
      if (td) await td.destroy();
      else await pool.destroy();
      throw error;
    }
  }

  private cluster: { client: ClusterClient; router: ClusterRouter; node?: ClusterNode; where: string } | undefined;

  private async joinCluster(options: ClusterOptions, resolved: ResolvedCluster, submitOnly: boolean): Promise<void> {
    const { ClusterClient } = await import('../cluster/client.ts');
    const { ClusterRouter } = await import('../cluster/router.ts');
    const client = await ClusterClient.open(resolved);
    const router = new ClusterRouter(client, this.pool, this.costs, () => this.cluster?.node?.id);
    this.cluster = { client, router, where: resolved.where };
    // With workers, this session runs cluster jobs too — its own user's, so any module ('*') —
    // and places each call here or on the cluster by the measured cost of moving its arguments.
    if (!submitOnly) {
      const { startNode } = await import('../cluster/node.ts');
      const node = await startNode({ ...options, allow: ['*'], session: this, name: `${hostname()}:${process.pid} (client)`, kernelSlices: false });
      this.cluster.node = node;
      await router.calibrate();
      // The other nodes are one more device of this session's planner, for kernels they can load.
      const { ClusterDevice } = await import('../cluster/cluster-device.ts');
      this.backends.push(new ClusterDevice(client, () => node.id));
    }
  }

  /**
   * Runs the function `exportName` of a task module in a worker, `args` spread as its arguments.
   *
   * @example
   * ```ts
   * const sum = await td.run(new URL('./tasks.ts', import.meta.url), 'add', [1, 2], { retries: 1 });
   * ```
   */
  run<T = unknown>(module: ModuleSpecifier, exportName: string, args: readonly unknown[] = [], options: TaskOptions = {}): Promise<T> {
    if (this.cluster) return this.cluster.router.run<T>(module, exportName, args, options);
    return this.pool.run<T>(module, exportName, args, options);
  }

  /**
   * Runs one task per entry of `argsList` (batched: many tasks per message) and resolves to the
   * results in order. The first failure rejects and aborts the rest.
   *
   * @example
   * ```ts
   * const squares = await td.runMany<number>(tasks, 'square', [[1], [2], [3]], { onProgress: (d, t) => bar.update(d) });
   * ```
   */
  runMany<T = unknown>(module: ModuleSpecifier, exportName: string, argsList: readonly (readonly unknown[])[], options: BulkOptions = {}): Promise<T[]> {
    if (this.cluster) return this.cluster.router.runMany<T>(module, exportName, argsList, options);
    return runTasks<T>(this.pool, module, exportName, argsList, options);
  }

  /**
   * Like {@link Tandem.runMany}, but yields each task as it settles (failures included, as
   * `{ status: 'rejected' }`). Breaking out of the loop aborts the tasks still pending.
   *
   * @example
   * ```ts
   * for await (const r of td.stream<number>(tasks, 'square', argsList)) if (r.status === 'fulfilled') total += r.value;
   * ```
   */
  stream<T = unknown>(module: ModuleSpecifier, exportName: string, argsList: readonly (readonly unknown[])[], options: BulkOptions = {}): AsyncGenerator<Settled<T>, void, undefined> {
    if (this.cluster) return this.cluster.router.stream<T>(module, exportName, argsList, options);
    return streamTasks<T>(this.pool, module, exportName, argsList, options);
  }

  /**
   * Runs a user kernel over its whole output and resolves to the output tensor. If the device the
   * planner chose is lost mid-run, the kernel runs again on a healthy device; if `options.device`
   * names it, the call rejects with `DeviceLostError` instead.
   *
   * @example
   * ```ts
   * const saxpy = kernel('saxpy', function (x: number[], y: number[], a: number) {
   *   return a * x[this.thread.x] + y[this.thread.x];
   * });
   * const out = await td.map(saxpy, [x, y, 2], { output: [n], device: 'gpujs' });
   * ```
   */
  async map(k: UserKernel, args: readonly UserKernelArg[], options: MapOptions): Promise<Tensor> {
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object with output, e.g. { output: [n] }', options);
    // No device here (a cluster client with workers: 0): a node runs it, loading the kernel from its module.
    if (this.cluster && this.backends.length === 0 && options.device === undefined) return this.mapOnCluster(this.cluster.client, k, args, options.output);
    const out = this.launch(userCall(k, args, options.output), options.device);
    await out.values();
    return out;
  }

  private async mapOnCluster(client: ClusterClient, k: UserKernel, args: readonly UserKernelArg[], output: KernelOutput): Promise<Tensor> {
    userCall(k, args, output); // the same checks of the kernel and its arguments as a local run
    if (!k.module) throw new ArgumentError('kernel', `a kernel declared with { module: import.meta.url } (and exported), so the cluster's nodes can load '${k.name}': this session has no device of its own`, k.name);
    const { REMOTE_KERNEL_MODULE } = await import('../cluster/remote-kernel.ts');
    return client.runSessionTask<Tensor>(REMOTE_KERNEL_MODULE, 'mapKernel', [{ module: k.module, kernel: k.name, args, output }]);
  }

  /**
   * Devices this session drives.
   *
   * @example
   * ```ts
   * for (const d of td.devices()) console.log(d.id, d.description);
   * ```
   */
  devices(): DeviceInfo[] {
    // The cluster device stands for the nodes, listed one by one instead.
    const devices = this.backends.filter((b) => b.device.kind !== 'cluster').map((b) => b.device);
    // A cluster's nodes, as last seen (every few seconds): where run/runMany/stream tasks go.
    for (const n of this.cluster?.client.nodes() ?? []) {
      devices.push({ id: `node:${n.name}`, backend: 'cluster', kind: 'cpu', description: `${n.host} pid ${n.pid}: ${n.devices.join('; ')}`, software: false, lanes: n.workers, limits: { maxBufferBytes: 0, maxBindingBytes: 0 } });
    }
    if (!devices.some((d) => d.kind === 'cpu')) {
      // With no backend on the CPU, the workers are still a device: they run td.run tasks.
      devices.unshift(hostCpuDevice({ backend: 'workers', workers: this.pool.options.workers, workerKind: this.pool.options.workerKind }));
    }
    return devices;
  }

  /**
   * Counts, wait/run percentiles and per-worker utilisation so far.
   *
   * @example
   * ```ts
   * console.log(td.stats().runMs.p99);
   * for (const n of td.stats().nodes ?? []) console.log(n.name, n.stats?.tasks.completed);
   * ```
   */
  stats(): SessionStats {
    const nodes = this.cluster?.client.nodes();
    return nodes ? { ...this.pool.stats(), nodes } : this.pool.stats();
  }

  /**
   * Listens to progress of everything submitted to the session (`done` of `total`).
   *
   * @example
   * ```ts
   * td.onProgress(({ done, total }) => bar.update(done, { total }));
   * ```
   */
  onProgress(listener: (event: ProgressEvent) => void): () => void {
    // On a cluster, the session's tasks settle through the client; its own pool runs whatever
    // jobs its node takes, other clients' included.
    if (this.cluster) return this.cluster.client.onProgress(listener);
    this.pool.on('progress', listener);
    return () => this.pool.off('progress', listener);
  }

  /** Stops taking tasks, finishes queued and running ones, then ends the workers and devices. */
  async close(): Promise<void> {
    // The pool must start closing in this call, before any await: a task submitted right after
    // close() is refused. A cluster session first stops its node taking jobs (its running ones
    // finish on the pool), then closes the pool.
    if (this.cluster) await this.leaveCluster();
    await this.pool.close();
    await this.disposeBackends();
  }

  private async leaveCluster(): Promise<void> {
    const c = this.cluster;
    this.cluster = undefined;
    await c?.node?.close();
    await c?.client.close();
  }

  /** Rejects everything pending (code `ERR_TANDEM_POOL_DESTROYED`) and ends the workers and devices now. */
  async destroy(): Promise<void> {
    if (this.cluster) await this.leaveCluster().catch(() => {});
    await this.pool.destroy();
    await this.disposeBackends();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * For the last planned graph, per task and chunk: device, predicted vs measured time, bytes moved; per device: busy time
   * and utilisation; and the makespan against the best single device's predicted time. After a
   * `train()` on this session, its replicas too: engine and device, share of the batch, predicted
   * vs measured step time, time waiting at the barrier and in the all-reduce, and the devices
   * given no replica, with why.
   *
   * @example
   * ```ts
   * await td.map(mandelbrot, [], { output: [4096, 4096] });
   * console.log(td.explain());
   * ```
   */
  explain(): string {
    const parts: string[] = [];
    if (this.recorder.spans().length > 0 || (!this.recorder.lastTraining() && !this.lastPipeline)) {
      parts.push(explainSpans(this.recorder.spans(), this.recorder.lastGraph(), this.backends.map((b) => b.device.id), this.costs, undefined, this.recorder.activities()));
    }
    if (this.lastPipeline) parts.push(explainPipeline(this.lastPipeline, this.lastPipelineSpans));
    if (this.cluster) parts.push(explainCluster(this.cluster.where, this.cluster.client.nodes(), this.cluster.router));
    const training = this.recorder.lastTraining();
    if (training) parts.push(explainTraining(training));
    return parts.join('\n');
  }

  /**
   * Opens a data file — Parquet, Arrow IPC (file or stream), CSV or JSON lines, by extension or
   * `options.format` — at a path or URL, as a lazy {@link Table}: the schema is read now (a
   * missing or unreadable file fails here), the rows when a terminal operation runs the table.
   *
   * @example
   * ```ts
   * const flights = await td.read('node_modules/vega-datasets/data/flights-3m.parquet');
   * console.log(flights.schema); // Map { 'date' => 'timestamp', 'delay' => 'float64', … }
   * ```
   */
  async read(pathOrUrl: string | URL, options: ReadOptions = {}): Promise<Table> {
    const { openSource } = await import('../data/read/open.ts');
    return new Table(this.dataSession, await openSource(pathOrUrl, options));
  }

  /**
   * An Apache Arrow table in memory (from DuckDB, Polars, Arquero, …) as a {@link Table}; numeric
   * columns on shared memory are wrapped, others copied once.
   *
   * @example
   * ```ts
   * const t = td.fromArrow(await duckdbResult.toArrow());
   * ```
   */
  async fromArrow(table: arrow.Table, name?: string): Promise<Table> {
    const { arrowTableSource } = await import('../data/read/from-table.ts');
    return new Table(this.dataSession, arrowTableSource(table, name));
  }

  private lastPipeline: PipelineRun | undefined;
  /** The kernel spans of the last pipeline run (every batch's, where explain's graph part shows only the last batch's). */
  private lastPipelineSpans: Span[] = [];

  /**
   * The last table pipeline this session ran: per stage its rows, batches and busy time, the wall
   * time, and the most bytes held between stages against the budget (`maxQueuedBytes`).
   *
   * @example
   * ```ts
   * await flights.groupBy('origin').agg({ delay: 'mean' }).toRows();
   * console.log(td.lastPipelineRun()?.peakQueuedBytes);
   * ```
   */
  lastPipelineRun(): PipelineRun | undefined {
    return this.lastPipeline;
  }

  /** What tables ask of this session: kernels through the planner, tasks on the workers. */
  private readonly dataSession: DataSession = {
    map: (k, args, options) => this.map(k, args, options),
    run: (module, exportName, args) => this.run(module, exportName, args),
    runLocal: (module, exportName, args) => this.pool.run(module, exportName, args),
    workers: () => this.pool.liveWorkers,
    activity: (stage, name, start, end, args) => this.recorder.activity(DATA_TRACK, stage, 'compute', name, start, end, args),
    cluster: () => {
      const c = this.cluster;
      const nodes = c?.client.nodes().length ?? 0;
      if (!c || nodes === 0) return undefined;
      return {
        nodes,
        run: async <T>(exportName: string, args: readonly unknown[], signal?: AbortSignal) => {
          const { REMOTE_TABLE_MODULE } = await import('../data/nodes-scan.ts');
          return c.client.runSessionTask<T>(REMOTE_TABLE_MODULE, exportName, args, signal ? { signal } : {});
        },
      };
    },
    recordPipeline: (run) => {
      const end = performance.now();
      this.lastPipeline = run;
      this.lastPipelineSpans = this.recorder.spansBetween(end - run.wallMs, end);
    },
  };

  /**
   * How the last planned graph's plan changed while it ran: each time a node took far longer (or
   * shorter) than predicted — over 2× and over 1 ms off — the nodes not yet started were planned
   * again with the correction; started ones kept their device. Empty when the first plan held.
   *
   * @example
   * ```ts
   * const outs = inputs.map((x) => td.ops.exp(x));
   * await Promise.all(outs.map((o) => o.values()));
   * for (const r of td.replans()) console.log(r.after.node, r.reason, r.moved.map((m) => `${m.node}: ${m.from} → ${m.to}`));
   * ```
   */
  replans(): readonly Replan[] {
    return this.recorder.lastGraph()?.replans ?? [];
  }

  /**
   * Writes everything recorded so far as a Chrome trace to `path`; open it at
   * https://ui.perfetto.dev. Each device is a process with a track per lane: `calls` (each op or
   * chunk the planner gave it, with predicted and measured time), one per CPU worker (`worker 0`,
   * `worker 1`, …: the sub-ranges it computed) or the GPU's `queue`, and `transfers` (uploads and
   * readbacks, `cat: 'transfer'`, with their bytes). Training on the session adds a `training`
   * process with one track per replica: each step's `compute`, `wait` (at the barrier) and
   * `allreduce` slices; pipeline map blocks run on the session's workers appear on their tracks.
   *
   * @example
   * ```ts
   * await td.trace('trace.json');
   * ```
   */
  async trace(path: string): Promise<void> {
    if (typeof path !== 'string' || path === '') throw new ArgumentError('path', 'a file path for the trace JSON', path);
    await writeFile(path, JSON.stringify(chromeTrace(this.recorder.spans(), this.recorder.activities())));
  }

  /**
   * Queues a kernel call as a node of the lazy graph; the graph of everything queued in this turn
   * is planned and run together. A device named here must exist and run the kernel (checked now).
   */
  private launch(call: KernelCall, device: string | undefined): Tensor {
    const named = device === undefined ? undefined : pickBackend(this.backends, call, device);
    if (!named) pickBackend(this.backends, call, undefined);
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.pendingNodes.push({ id: `op${this.nodeCount++}`, call, device: named, resolve, reject });
    if (this.pendingNodes.length === 1) setImmediate(() => this.flush());
    const out = call.output;
    out.pending = done;
    // The error surfaces from out.values(); until someone asks, it must not be an unhandled rejection.
    done.then(() => {
      if (out.pending === done) out.pending = undefined;
    }, () => undefined);
    return out;
  }

  private flush(): void {
    const nodes = this.pendingNodes.splice(0);
    if (nodes.length === 0) return;
    const ctx = { backends: this.backends, costs: this.costs, recorder: this.recorder, policy: this.policy, splitMinElements: SPLIT_MIN_ELEMENTS };
    this.running = this.running
      .then(() => calibrateTransfers(this.backends, this.costs)).catch(() => undefined)
      .then(() => runGraph(nodes, ctx))
      // A planner or executor fault must reach the ops' own promises, not escape as an unhandled
      // rejection; nodes that had already settled ignore the second settlement.
      .catch((error: unknown) => {
        for (const n of nodes) n.reject(error);
      });
  }

  private saveCosts(): void {
    if (!this.costPath) return;
    try {
      saveCostModel(this.costPath, this.costs);
    } catch (error) {
      process.emitWarning(`could not save learned costs to ${this.costPath}: ${(error as Error).message}`, 'TandemWarning');
    }
  }

  private async disposeBackends(): Promise<void> {
    if (this.backends.length > 0 || this.costsDirty) this.saveCosts();
    this.costsDirty = false;
    await Promise.all(this.backends.splice(0).map((b) => b.dispose().catch(() => undefined)));
  }
}
