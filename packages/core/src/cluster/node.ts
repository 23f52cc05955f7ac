/**
 * A cluster node: a local Tandem session (its workers and devices) consuming task jobs from
 * BullMQ. `npx tandem worker` runs one; a client session with workers runs one in-process.
 *
 * BullMQ gives at-least-once delivery: a job whose node dies mid-run is found by another node's
 * stalled-job check once its lock expires, and run again. The lock and the check run every few
 * seconds here, not BullMQ's 30 s, so the work of a killed node resumes in about
 * LOCK_MS + STALLED_INTERVAL_MS. Task code runs in the session's worker threads, so the node's
 * own event loop stays free to renew locks even while every worker is busy.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ArgumentError, TaskModuleError } from '../errors.ts';
import type { Tandem } from '../session/session.ts';
import { allowedModule, allowList, type AllowList } from './allow.ts';
import { BlobStore } from './blob-store.ts';
import { probeRedis } from './probe.ts';
import { decode, encode } from './codec.ts';
import { clientKey, keepAlive, nodeKey, NODE_TTL_SECONDS, summariseStats, type NodeInfo } from './heartbeat.ts';
import { KERNEL_QUEUE, resolveCluster, TASK_QUEUE, type ClusterOptions } from './options.ts';
import { validateJob, type TaskJob, type TaskJobResult } from './protocol.ts';
import { runSessionTask, type SessionTaskContext } from './session-task.ts';
import { taskKernel, timed, WORKERS_DEVICE } from './router.ts';
import type { TaskOptions } from '../pool/options.ts';
import { streamTasks } from '../pool/bulk.ts';
import { sessionInternals } from '../session/internals.ts';

/** How long a node holds a job's lock between renewals (renewed every half of it while it runs). */
export const LOCK_MS = 4000;
/** How often nodes look for jobs whose lock expired (their node died). */
export const STALLED_INTERVAL_MS = 2000;
/** How often a job may be found stalled before it fails: a job that kills every node it lands on stops. */
export const MAX_STALLED = 3;

export interface NodeOptions extends ClusterOptions {
  /** Directories and package names whose task modules this node runs. Required and non-empty. */
  readonly allow: readonly string[];
  /** Worker threads of the node's session (default: available parallelism). */
  readonly workers?: number;
  /** Backends of the node's session (default: every one that opens). */
  readonly backends?: string[];
  /** Shown in `cluster status` and messages. Default: host:pid. */
  readonly name?: string;
  /** Jobs run at once. Default: the session's workers. */
  readonly concurrency?: number;
  /** Run jobs on this session rather than opening one (a client's in-process node). */
  readonly session?: Tandem;
  /**
   * Take the kernel slices clients' planners send to the cluster (`cluster-device.ts`). Default
   * true; a client's own node does not: its machine's devices take their share directly.
   */
  readonly kernelSlices?: boolean;
}

/** A running node. */
export interface ClusterNode {
  readonly id: string;
  readonly name: string;
  devices(): ReturnType<Tandem['devices']>;
  /** Stops taking jobs, lets the running ones finish, then closes its session (if it opened it). */
  close(): Promise<void>;
}

/**
 * Joins the cluster: opens a session (unless given one) and runs task jobs from the queue.
 *
 * @example
 * ```ts
 * const node = await startNode({ redis: 'redis://127.0.0.1:6379', allow: ['/srv/tasks'] });
 * process.once('SIGTERM', () => node.close());
 * ```
 */
export async function startNode(options: NodeOptions): Promise<ClusterNode> {
  const cluster = resolveCluster(options, 'options');
  if (!Array.isArray(options.allow) || options.allow.length === 0 || !options.allow.every((a) => typeof a === 'string' && a !== '')) {
    throw new ArgumentError('options.allow', 'the directories or package names whose task modules this node may run (at least one)', options.allow);
  }
  const list = allowList(options.allow);
  // Redis not up yet: wait for it (the CLI says so every few seconds). A wrong password or an
  // untrusted certificate: fail now, as no retry would fix it.
  for (;;) {
    try {
      await probeRedis(cluster);
      break;
    } catch (error) {
      if ((error as { permanent?: boolean }).permanent) throw error;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const { Tandem } = await import('../session/session.ts');
  const own = options.session === undefined;
  const td = options.session ?? (await Tandem.create({ ...(options.workers !== undefined ? { workers: options.workers } : {}), ...(options.backends ? { backends: options.backends } : {}) }));
  const { Worker, UnrecoverableError } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const redis = new Redis(cluster.connection);
  // ioredis reconnects by itself (Redis restarted, not up yet); without a listener each failed
  // attempt would print an "Unhandled error event" trace.
  redis.on('error', () => {});
  const store = new BlobStore(redis, cluster.prefix, cluster.blobTtlSeconds);
  const id = randomUUID();
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const workers = td.stats().workers.length;
  // Its own devices (a client's session also lists the other nodes, as backend 'cluster'). A
  // session with no backend lists its workers as a device (backend 'workers'): they run tasks, not kernels.
  const ownDevices = () => td.devices().filter((d) => d.backend !== 'cluster');
  const kernelSlices = options.kernelSlices !== false && ownDevices().some((d) => d.backend !== 'workers');
  // Jobs run on the session's own pool: through the session, a client's in-process node (whose
  // session is on the cluster) would submit each job to the cluster again.
  const { costs, pool } = sessionInternals(td);
  const counts = { running: 0, completed: 0, failed: 0 };
  const info = (): NodeInfo => ({
    id, name, host: hostname(), pid: process.pid, workers, ...counts, lastSeen: Date.now(),
    devices: ownDevices().map((d) => `${d.id} — ${d.description}`), stats: summariseStats(td.stats()), kernelSlices,
  });
  const heartbeat = keepAlive(redis, nodeKey(cluster.prefix, id), NODE_TTL_SECONDS, () => JSON.stringify(info()));

  /** A session task: the export called in this thread with a context holding the session. */
  const runOnSession = async (href: string, data: TaskJob, job: { id?: string; updateProgress(value: object): Promise<void> }, args: unknown[]): Promise<unknown> => {
    const mod = (await import(href)) as Record<string, unknown>;
    const fn = mod[data.exportName];
    if (typeof fn !== 'function') throw new TaskModuleError('ERR_TANDEM_EXPORT_NOT_FUNCTION', `session task module ${href} has no function export '${data.exportName}'`);
    return runSessionTask(fn as (context: SessionTaskContext, ...args: unknown[]) => unknown, args, {
      job, client: data.client, redis, prefix: cluster.prefix, session: td, node: name, allowed: (module) => allowedModule(module, list, name),
    });
  };

  const run = async (job: TaskJob, bull: { id?: string; updateProgress(value: object): Promise<void> }): Promise<TaskJobResult> => {
    // A job whose client is gone (its key expired) has nobody waiting: drop it rather than run it.
    if ((await redis.exists(clientKey(cluster.prefix, job.client))) === 0) throw new UnrecoverableError(`client ${job.client} is gone; its job was dropped`);
    let href: string;
    try {
      href = allowedModule(job.module, list, name);
    } catch (error) {
      // Refused or missing here: every task fails with the TaskModuleError itself, so the caller
      // catches it as one (a failed job would reach it as a plain message).
      const encoded = await encode(error, store, 'error');
      return { v: 1, node: name, results: job.tasks.map(() => ({ ok: false as const, error: encoded })) };
    }
    const argsList = (await Promise.all(job.tasks.map((t) => decode(t, store)))) as unknown[][];
    // The tasks' own run time, for the planner of a client on this node's session (`router.ts`).
    const { options: taskOptions, done: recordRunTime } = timed<TaskOptions>(
      { ...(job.timeoutMs !== undefined ? { timeoutMs: job.timeoutMs } : {}), ...(job.retries !== undefined ? { retries: job.retries } : {}) },
      (ms) => void costs.recordKernel(taskKernel(job.module, job.exportName), WORKERS_DEVICE, argsList.length, ms),
    );
    const settled = new Array<TaskJobResult['results'][number]>(argsList.length);
    if (argsList.length === 1) {
      try {
        const value = job.kind === 'session' ? await runOnSession(href, job, bull, argsList[0]!) : await pool.run(href, job.exportName, argsList[0]!, taskOptions);
        settled[0] = { ok: true, value: await encode(value, store, 'result') };
      } catch (error) {
        settled[0] = { ok: false, error: await encode(error, store, 'error') };
      }
    } else {
      for await (const s of streamTasks(pool, href, job.exportName, argsList, taskOptions)) {
        settled[s.index] = s.status === 'fulfilled' ? { ok: true, value: await encode(s.value, store, 'result') } : { ok: false, error: await encode(s.reason, store, 'error') };
      }
    }
    if (job.kind !== 'session') recordRunTime();
    return { v: 1, node: name, results: settled };
  };

  const processJob = async (job: import('bullmq').Job): Promise<TaskJobResult> => {
    counts.running++;
    try {
      let data: TaskJob;
      try {
        data = validateJob(job.data);
      } catch (error) {
        throw new UnrecoverableError(`job ${job.id} refused by node ${name}: ${(error as Error).message}`);
      }
      try {
        const result = await run(data, job);
        counts.completed++;
        return result;
      } catch (error) {
        counts.failed++;
        // Bad job data fails the same way on every node: don't try it elsewhere.
        if (error instanceof TaskModuleError || error instanceof ArgumentError) throw new UnrecoverableError(error.message);
        throw error;
      }
    } finally {
      counts.running--;
    }
  };
  const queues = kernelSlices ? [TASK_QUEUE, KERNEL_QUEUE] : [TASK_QUEUE];
  const bullWorkers = queues.map((queue) => new Worker(queue, processJob, {
    connection: cluster.connection, prefix: cluster.prefix, concurrency: options.concurrency ?? Math.max(1, workers),
    lockDuration: LOCK_MS, stalledInterval: STALLED_INTERVAL_MS, maxStalledCount: MAX_STALLED,
  }));
  // ioredis reconnects by itself (Redis restarted); BullMQ reports the outage here meanwhile.
  for (const w of bullWorkers) w.on('error', () => {});
  await Promise.all(bullWorkers.map((w) => w.waitUntilReady()));
  let closing: Promise<void> | undefined;
  return {
    id,
    name,
    devices: () => td.devices(),
    close() {
      closing ??= (async () => {
        await Promise.all(bullWorkers.map((w) => w.close()));
        await heartbeat.stop();
        redis.disconnect();
        if (own) await td.close();
      })();
      return closing;
    },
  };
}
