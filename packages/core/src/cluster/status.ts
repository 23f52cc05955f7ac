/** `npx tandem cluster status`: the live nodes and the task queue's counts. */
import { TandemError } from '../errors.ts';
import { liveNodes, type NodeInfo } from './heartbeat.ts';
import { resolveCluster, TASK_QUEUE, type ClusterOptions } from './options.ts';

export interface ClusterStatus {
  readonly nodes: readonly NodeInfo[];
  readonly queue: { readonly waiting: number; readonly active: number; readonly delayed: number; readonly failed: number; readonly completed: number };
}

/**
 * What the cluster looks like now.
 *
 * @example
 * ```ts
 * const { nodes, queue } = await clusterStatus({ redis: 'redis://127.0.0.1:6379' });
 * ```
 */
export async function clusterStatus(options: ClusterOptions): Promise<ClusterStatus> {
  const cluster = resolveCluster(options, 'options');
  const { Queue } = await import('bullmq');
  const { Redis } = await import('ioredis');
  // One look, not a service: fail fast (no reconnecting for ever) and say where it failed.
  const connection = { ...cluster.connection, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false, lazyConnect: true };
  const redis = new Redis(connection);
  let lastError: Error | undefined;
  redis.on('error', (e: Error) => void (lastError = e)); // reported below, not as ioredis's unhandled-error trace
  let queue: import('bullmq').Queue | undefined;
  try {
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      throw new TandemError('ERR_TANDEM_CLUSTER', `cannot reach the cluster's Redis at ${cluster.where}: ${(lastError ?? (error as Error)).message}`, { cause: error });
    }
    queue = new Queue(TASK_QUEUE, { connection: { ...cluster.connection, maxRetriesPerRequest: 1 }, prefix: cluster.prefix });
    queue.on('error', () => {});
    const [nodes, counts] = await Promise.all([liveNodes(redis, cluster.prefix), queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')]);
    return { nodes, queue: { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0, completed: counts.completed ?? 0 } };
  } finally {
    await queue?.close();
    redis.disconnect();
  }
}
