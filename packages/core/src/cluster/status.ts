/** `npx tandem cluster status`: the live nodes and the task queue's counts. */
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
  const redis = new Redis({ ...cluster.connection, maxRetriesPerRequest: 2 });
  const queue = new Queue(TASK_QUEUE, { connection: cluster.connection, prefix: cluster.prefix });
  try {
    const [nodes, counts] = await Promise.all([liveNodes(redis, cluster.prefix), queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')]);
    return { nodes, queue: { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0, completed: counts.completed ?? 0 } };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
