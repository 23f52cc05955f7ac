/** `npx tandem cluster status`: the live nodes and the task queue's counts. */
import { connectOnce } from './probe.ts';
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
  // One look, not a service: fail fast (no reconnecting for ever) and say where it failed.
  const redis = await connectOnce(cluster);
  let queue: import('bullmq').Queue | undefined;
  try {
    queue = new Queue(TASK_QUEUE, { connection: { ...cluster.connection, maxRetriesPerRequest: 1 }, prefix: cluster.prefix });
    queue.on('error', () => {});
    const [nodes, counts] = await Promise.all([liveNodes(redis, cluster.prefix), queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')]);
    return { nodes, queue: { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0, completed: counts.completed ?? 0 } };
  } finally {
    await queue?.close();
    redis.disconnect();
  }
}
