/**
 * The client side of the cluster: a session's `run`, `runMany` and `stream` as BullMQ jobs.
 *
 * Exactly-once results on at-least-once delivery: a job may run twice (its node died after
 * starting it, a lock expired), but each job has one id derived from its content and the call,
 * and each of the client's pending jobs settles once — the first completion wins, later ones find
 * nothing pending. Completions arrive as QueueEvents; a job whose event was missed (Redis
 * restarted, the connection dropped) is looked up directly after a while, so no call waits for an
 * event that will never come.
 */
import { randomUUID } from 'node:crypto';
import { ArgumentError, TandemError } from '../errors.ts';
import type { BulkOptions, Settled } from '../pool/bulk.ts';
import { moduleName, type ModuleSpecifier } from '../pool/module-ref.ts';
import type { TaskOptions } from '../pool/options.ts';
import type { ProgressEvent } from '../pool/pool.ts';
import { BlobStore } from './blob-store.ts';
import { probeRedis } from './probe.ts';
import { calibrateLink, type LinkCosts } from './link.ts';
import type { CostModel } from '../planner/cost-model.ts';
import { decode, encode } from './codec.ts';
import { clientKey, keepAlive, liveNodes, type NodeInfo } from './heartbeat.ts';
import { QUEUES, TASK_QUEUE, type QueueName, type ResolvedCluster } from './options.ts';
import { jobId, MAX_JOB_BYTES, type TaskJob, type TaskJobResult } from './protocol.ts';
import { cancelKey, replyKey, REPLY_TTL_SECONDS, type SessionTaskMessage } from './session-task.ts';

type Queue = import('bullmq').Queue;
type QueueEvents = import('bullmq').QueueEvents;
type Redis = import('ioredis').Redis;

/** A pending job is looked up in Redis if no event settled it within this long. */
const RESYNC_MS = 3000;
/** Most tasks per job for runMany: big enough to amortise a job's Redis round trips, small enough to spread. */
const MAX_TASKS_PER_JOB = 256;

interface Pending {
  readonly queue: QueueName;
  readonly tasks: number;
  readonly since: number;
  settle(result: TaskJobResult | Error): void;
  /** A session task's report or question (its job's progress). */
  message?(m: SessionTaskMessage): void;
}

/** How a session task's caller hears from it. */
export interface SessionTaskOptions {
  /** Called with each value the task reports. */
  onReport?: (value: unknown) => void;
  /** Answers the task's questions (each once; a question asked again gets the same answer). */
  onAsk?: (question: unknown) => unknown;
  /** Cancels the task: it rejects here at once, and the task's own signal aborts on its node. */
  signal?: AbortSignal;
  /** The queue it goes through (default `tasks`; the cluster device's kernel slices use `kernels`). */
  queue?: QueueName;
}

export class ClusterClient {
  private readonly pending = new Map<string, Pending>();
  private calls = 0;
  /** Tasks submitted and settled through this client, for the session's onProgress. */
  private readonly counts = { submitted: 0, done: 0 };
  private readonly progressListeners = new Set<(event: ProgressEvent) => void>();
  private readonly resync: NodeJS.Timeout;
  private nodeCache: NodeInfo[] = [];

  private constructor(
    readonly id: string,
    private readonly cluster: ResolvedCluster,
    private readonly redis: Redis,
    private readonly queues: Readonly<Record<QueueName, { readonly queue: Queue; readonly events: QueueEvents }>>,
    private readonly store: BlobStore,
    private readonly heartbeat: { stop(): Promise<void> },
  ) {
    for (const { events } of Object.values(queues)) {
      events.on('completed', ({ jobId: id, returnvalue }) => {
        const value = typeof returnvalue === 'string' ? (JSON.parse(returnvalue) as TaskJobResult) : (returnvalue as unknown as TaskJobResult);
        this.settle(id, value);
      });
      events.on('failed', ({ jobId: id, failedReason }) => this.settle(id, new TandemError('ERR_TANDEM_CLUSTER_JOB', failedReason)));
      events.on('progress', ({ jobId: id, data }) => {
        if (typeof data === 'object' && data !== null) this.pending.get(id)?.message?.(data as SessionTaskMessage);
      });
      events.on('error', () => {}); // reconnects by itself; missed events are caught by the resync
    }
    this.resync = setInterval(() => void this.lookUpStale(), RESYNC_MS);
    this.resync.unref();
  }

  /** Connects to the cluster's Redis and starts its heartbeat. */
  static async open(cluster: ResolvedCluster): Promise<ClusterClient> {
    await probeRedis(cluster);
    const { Queue, QueueEvents } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const redis = new Redis(cluster.connection);
    redis.on('error', () => {}); // ioredis retries; calls wait meanwhile
    const queues = Object.fromEntries(QUEUES.map((name) => {
      const queue = new Queue(name, { connection: cluster.connection, prefix: cluster.prefix });
      queue.on('error', () => {});
      return [name, { queue, events: new QueueEvents(name, { connection: cluster.connection, prefix: cluster.prefix }) }];
    })) as Record<QueueName, { queue: Queue; events: QueueEvents }>;
    const all = Object.values(queues);
    try {
      await Promise.all([...all.flatMap((q) => [q.queue.waitUntilReady(), q.events.waitUntilReady()]), redis.ping()]);
    } catch (error) {
      await Promise.allSettled(all.flatMap((q) => [q.queue.close(), q.events.close()]));
      redis.disconnect();
      throw new TandemError('ERR_TANDEM_CLUSTER', `cannot reach the cluster's Redis at ${cluster.where}: ${(error as Error).message}`, { cause: error });
    }
    const id = `client-${randomUUID()}`;
    // Nodes drop the jobs of a client whose key expired: it died, nobody waits for them.
    const heartbeat = keepAlive(redis, clientKey(cluster.prefix, id), cluster.clientGraceSeconds, () => String(Date.now()));
    await heartbeat.ready;
    const client = new ClusterClient(id, cluster, redis, queues, new BlobStore(redis, cluster.prefix, cluster.blobTtlSeconds), heartbeat);
    await client.refreshNodes();
    return client;
  }

  private settle(id: string, result: TaskJobResult | Error): void {
    const p = this.pending.get(id);
    if (!p) return; // already settled, or not ours: a second completion of a job run twice
    this.pending.delete(id);
    this.counts.done += p.tasks;
    p.settle(result);
    for (const listener of this.progressListeners) listener({ done: this.counts.done, total: this.counts.submitted });
  }

  /** Calls `listener` as the tasks submitted here settle (a job's tasks at once); returns how to stop. */
  onProgress(listener: (event: ProgressEvent) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  /** Jobs pending for a while are looked up, in case their event was missed. */
  private async lookUpStale(): Promise<void> {
    const now = Date.now();
    const stale = [...this.pending].filter(([, p]) => now - p.since > RESYNC_MS).slice(0, 200);
    for (const [id, p] of stale) {
      try {
        const job = await this.queues[p.queue].queue.getJob(id);
        if (!job) continue;
        if (job.finishedOn && job.returnvalue) this.settle(id, job.returnvalue as TaskJobResult);
        else if (job.finishedOn && job.failedReason) this.settle(id, new TandemError('ERR_TANDEM_CLUSTER_JOB', job.failedReason));
      } catch {
        return; // Redis away: next round
      }
    }
    void this.refreshNodes();
  }

  private async refreshNodes(): Promise<void> {
    try {
      this.nodeCache = await liveNodes(this.redis, this.cluster.prefix);
    } catch {
      // keep the last known list while Redis is away
    }
  }

  /** The nodes seen at the last look (every few seconds). */
  nodes(): readonly NodeInfo[] {
    return this.nodeCache;
  }

  /** Live nodes, asked of Redis now. */
  async liveNodes(): Promise<NodeInfo[]> {
    await this.refreshNodes();
    return this.nodeCache;
  }

  /** Submits the tasks as jobs of up to `perJob` tasks; calls `onJob` as each job settles. */
  private async submit(module: ModuleSpecifier, exportName: string, argsList: readonly (readonly unknown[])[], options: TaskOptions, perJob: number,
    onJob: (first: number, result: TaskJobResult | Error) => void, session?: { message(id: string, m: SessionTaskMessage): void }, queueName: QueueName = TASK_QUEUE): Promise<void> {
    if (typeof exportName !== 'string' || exportName === '') throw new ArgumentError('exportName', 'the name of an exported function', exportName);
    if (options.transfer) throw new ArgumentError('options.transfer', 'nothing: buffers cannot be moved to another machine (they are copied)', options.transfer);
    const name = moduleName(module);
    const call = `${this.id}:${++this.calls}`;
    const { queue } = this.queues[queueName];
    const jobs: { name: string; data: TaskJob; opts: Record<string, unknown> }[] = [];
    for (let first = 0; first < argsList.length; first += perJob) {
      const slice = argsList.slice(first, first + perJob);
      if (!slice.every(Array.isArray)) throw new ArgumentError('argsList', 'an array of argument arrays, one per task', argsList);
      const tasks = await Promise.all(slice.map((args, i) => encode(args, this.store, `argsList[${first + i}]`)));
      const data: TaskJob = {
        v: 1, client: this.id, module: name, exportName, tasks, ...(session ? { kind: 'session' as const } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}), ...(options.retries !== undefined ? { retries: options.retries } : {}),
      };
      const bytes = Buffer.byteLength(JSON.stringify(data));
      if (bytes > MAX_JOB_BYTES) throw new ArgumentError('args', `arguments under ${MAX_JOB_BYTES} bytes of JSON per job (tensors and typed arrays travel as blobs; large plain arrays should be typed arrays)`, `${bytes} bytes`);
      // The index too: identical tasks of one call (runMany of the same arguments) are different jobs.
      const id = jobId(`${call}:${first}`, data);
      this.counts.submitted += slice.length;
      this.pending.set(id, { queue: queueName, tasks: slice.length, since: Date.now(), settle: (result) => onJob(first, result), ...(session ? { message: (m: SessionTaskMessage) => session.message(id, m) } : {}) });
      jobs.push({ name: exportName, data, opts: { jobId: id, attempts: 1, removeOnComplete: { age: 600 }, removeOnFail: { age: 3600 } } });
    }
    options.signal?.addEventListener('abort', () => {
      for (const j of jobs) this.settle(j.opts.jobId as string, options.signal!.reason instanceof Error ? options.signal!.reason : new Error('aborted'));
      // A queued job is removed; a running session task sees its cancel mark and stops.
      void Promise.allSettled(jobs.flatMap((j) => [queue.remove(j.opts.jobId as string), ...(session ? [this.redis.set(cancelKey(this.cluster.prefix, j.opts.jobId as string), '1', 'EX', REPLY_TTL_SECONDS)] : [])]));
    }, { once: true });
    await queue.addBulk(jobs as never);
  }

  private async results(result: TaskJobResult | Error): Promise<({ ok: true; value: unknown } | { ok: false; error: unknown })[]> {
    if (result instanceof Error) throw result;
    return Promise.all(result.results.map(async (r) => (r.ok ? { ok: true as const, value: await decode(r.value, this.store) } : { ok: false as const, error: await decode(r.error, this.store) })));
  }

  /**
   * One task on some node of the cluster.
   *
   * @example
   * ```ts
   * const r = await client.run(new URL('./tasks.ts', import.meta.url), 'simulate', [42]);
   * ```
   */
  run<T>(module: ModuleSpecifier, exportName: string, args: readonly unknown[], options: TaskOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.submit(module, exportName, [args], options, 1, (_, result) => {
        this.results(result).then(([r]) => (r!.ok ? resolve(r!.value as T) : reject(r!.error)), reject);
      }).catch(reject);
    });
  }

  /**
   * A session task on some node: `exportName` of `module` (allowed there) called in the node's
   * main thread as `fn(context, ...args)` with the node's session (see `session-task.ts`). For
   * work that drives a session itself, such as a sweep trial's `train()`.
   *
   * @example
   * ```ts
   * const r = await client.runSessionTask('@tandem/ml/remote-trial', 'runTrial', [spec], { onReport: (epoch) => console.log(epoch) });
   * ```
   */
  runSessionTask<T>(module: ModuleSpecifier, exportName: string, args: readonly unknown[], options: SessionTaskOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Our own signal too: a caller's onAsk that throws cancels the task, which would otherwise wait for an answer.
      const cancel = new AbortController();
      const signal = options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal;
      const answers = new Map<number, Promise<string>>();
      const answer = (id: string, n: number, question: unknown) => {
        let reply = answers.get(n);
        if (!reply) {
          reply = Promise.resolve().then(() => (options.onAsk ? options.onAsk(question) : null)).then((a) => JSON.stringify(a ?? null));
          reply.catch((error: unknown) => cancel.abort(error));
          answers.set(n, reply);
        }
        // Not written (Redis away): the task asks again.
        reply.then((text) => this.redis.set(replyKey(this.cluster.prefix, id, n), text, 'EX', REPLY_TTL_SECONDS)).catch(() => {});
      };
      const message = (id: string, m: SessionTaskMessage) => {
        if ('report' in m) {
          try {
            options.onReport?.(m.report);
          } catch (error) {
            cancel.abort(error);
          }
        } else if (typeof m.ask === 'number') answer(id, m.ask, m.question);
      };
      this.submit(module, exportName, [args], { signal }, 1, (_, result) => {
        this.results(result).then(([r]) => (r!.ok ? resolve(r!.value as T) : reject(r!.error)), reject);
      }, { message }, options.queue).catch(reject);
    });
  }

  /**
   * Tasks as they settle, in jobs of many tasks each (spread over the nodes).
   *
   * @example
   * ```ts
   * for await (const s of client.stream(tasks, 'square', [[1], [2]])) console.log(s.index, s.status);
   * ```
   */
  async *stream<T>(module: ModuleSpecifier, exportName: string, argsList: readonly (readonly unknown[])[], options: BulkOptions = {}): AsyncGenerator<Settled<T>, void, undefined> {
    if (!Array.isArray(argsList)) throw new ArgumentError('argsList', 'an array of argument arrays, one per task', argsList);
    if (argsList.length === 0) return;
    const nodes = Math.max(1, this.nodeCache.length);
    // A few jobs per node keep every node busy and let a slow or dead node's share be small.
    const perJob = Math.max(1, Math.min(MAX_TASKS_PER_JOB, Math.ceil(argsList.length / (nodes * 4))));
    const ready: Settled<T>[] = [];
    let wake: (() => void) | undefined;
    let done = 0;
    let failure: unknown;
    await this.submit(module, exportName, argsList, options, perJob, (first, result) => {
      this.results(result).then((rs) => {
        rs.forEach((r, i) => ready.push(r.ok ? { index: first + i, status: 'fulfilled', value: r.value as T } : { index: first + i, status: 'rejected', reason: r.error }));
      }, (error: unknown) => {
        const n = Math.min(perJob, argsList.length - first);
        for (let i = 0; i < n; i++) ready.push({ index: first + i, status: 'rejected', reason: error });
      }).finally(() => wake?.()).catch((e: unknown) => (failure = e));
    });
    while (done < argsList.length) {
      if (ready.length === 0) {
        if (failure) throw failure;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        continue;
      }
      const s = ready.shift()!;
      done++;
      options.onProgress?.(done, argsList.length);
      yield s;
    }
  }

  /**
   * Every task's result, in order; the first failure rejects.
   *
   * @example
   * ```ts
   * const squares = await client.runMany<number>(tasks, 'square', [[1], [2], [3]]);
   * ```
   */
  async runMany<T>(module: ModuleSpecifier, exportName: string, argsList: readonly (readonly unknown[])[], options: BulkOptions = {}): Promise<T[]> {
    const out = new Array<T>(argsList.length);
    for await (const s of this.stream<T>(module, exportName, argsList, options)) {
      if (s.status === 'rejected') throw s.reason;
      out[s.index] = s.value;
    }
    return out;
  }

  /** Measures the link to Redis into `costs` (see `link.ts`). */
  calibrateLink(costs: CostModel): Promise<LinkCosts> {
    return calibrateLink(this.redis, this.store, costs);
  }

  /** Stops the heartbeat and closes the connections; pending calls reject. */
  async close(): Promise<void> {
    clearInterval(this.resync);
    for (const id of [...this.pending.keys()]) this.settle(id, new TandemError('ERR_TANDEM_CLUSTER', 'the session closed before the cluster returned this job'));
    await this.heartbeat.stop();
    await Promise.allSettled(Object.values(this.queues).flatMap((q) => [q.queue.close(), q.events.close()]));
    this.redis.disconnect();
  }
}
