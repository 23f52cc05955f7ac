/** `npx tandem cluster status`: the live nodes and the job counts of the task and kernel-slice queues. */
import { connectOnce } from './probe.ts';
import { liveNodes, type NodeInfo } from './heartbeat.ts';
import { QUEUES, resolveCluster, type ClusterOptions } from './options.ts';

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
  const queues = QUEUES.map((name) => new Queue(name, { connection: { ...cluster.connection, maxRetriesPerRequest: 1 }, prefix: cluster.prefix }));
  try {
    for (const q of queues) q.on('error', () => {});
    const states = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
    const [nodes, ...counts] = await Promise.all([liveNodes(redis, cluster.prefix), ...queues.map((q) => q.getJobCounts(...states))]);
    const sum = (state: (typeof states)[number]) => counts.reduce((s, c) => s + (c[state] ?? 0), 0);
    return { nodes, queue: { waiting: sum('waiting'), active: sum('active'), delayed: sum('delayed'), failed: sum('failed'), completed: sum('completed') } };
  } finally {
    await Promise.allSettled(queues.map((q) => q.close()));
    redis.disconnect();
  }
}
