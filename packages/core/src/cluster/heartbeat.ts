/**
 * Presence in Redis: a node writes what it is and what it has done under a key that expires unless
 * refreshed, so a node that dies drops out of `cluster status` by itself; a client does the same,
 * and nodes drop the jobs of a client whose key has expired (it died: nobody waits for them).
 */
import type { Redis } from 'ioredis';
import type { Percentiles, PoolStats } from '../pool/stats.ts';

/** A node's session, summed up for the cluster (`td.stats().nodes` on a client). */
export interface NodeSessionStats {
  /** Its pool's task counts (a job of many tasks counts each). */
  readonly tasks: PoolStats['tasks'];
  /** Its tasks' own run times. */
  readonly runMs: Percentiles;
  /** Busy time of its workers over its lifetime, 0..1, averaged over the workers. */
  readonly utilisation: number;
}

/** The summary of `stats` a node publishes. */
export function summariseStats(stats: PoolStats): NodeSessionStats {
  const live = stats.workers.filter((w) => w.state !== 'retired');
  return { tasks: stats.tasks, runMs: stats.runMs, utilisation: live.length ? live.reduce((a, w) => a + w.utilisation, 0) / live.length : 0 };
}

/** What a node says of itself. */
export interface NodeInfo {
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly pid: number;
  /** Its devices: `id — description` each. */
  readonly devices: readonly string[];
  readonly workers: number;
  /** Jobs it holds now, and jobs it finished and failed since it joined. */
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  /** Its session's counts and times (absent from nodes of an older version). */
  readonly stats?: NodeSessionStats;
  /** Whether it takes kernel slices (`kernels` queue): stand-alone nodes do, a client's own node does not. */
  readonly kernelSlices?: boolean;
  /** ms since the epoch. */
  readonly lastSeen: number;
}

/** Node keys expire this long after the last refresh. */
export const NODE_TTL_SECONDS = 15;

export const nodeKey = (prefix: string, id: string) => `${prefix}:node:${id}`;
export const clientKey = (prefix: string, id: string) => `${prefix}:client:${id}`;

/** Writes `value()` under `key` now (`ready` resolves once written) and every ttl/3 seconds, with the TTL. */
export function keepAlive(redis: Redis, key: string, ttlSeconds: number, value: () => string): { ready: Promise<unknown>; stop(): Promise<void> } {
  const beat = () => redis.set(key, value(), 'EX', ttlSeconds).catch(() => {}); // Redis away: the next beat retries
  const ready = beat();
  const timer = setInterval(beat, (ttlSeconds * 1000) / 3);
  timer.unref();
  return {
    ready,
    async stop() {
      clearInterval(timer);
      await redis.del(key).catch(() => {});
    },
  };
}

/** Every live node's info. */
export async function liveNodes(redis: Redis, prefix: string): Promise<NodeInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', nodeKey(prefix, '*'), 'COUNT', 200);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(keys);
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as NodeInfo).sort((a, b) => a.name.localeCompare(b.name));
}
