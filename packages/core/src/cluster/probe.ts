/**
 * One look at the cluster's Redis before anything long-lived connects to it. ioredis and BullMQ
 * reconnect for ever, which is right once a cluster runs (Redis restarts) but turns a wrong
 * password or an untrusted certificate into a start that never ends: those fail here, at once,
 * with the server's own words.
 */
import { TandemError } from '../errors.ts';
import type { ResolvedCluster } from './options.ts';

/** Errors that no retry fixes: credentials and TLS. */
const PERMANENT = /WRONGPASS|NOAUTH|invalid password|invalid username|AUTH.*(failed|without)|certificate|self[- ]signed|CERT_|ERR_TLS|wrong version number|unable to verify|altnames/i;

/** Whether `error` (from connecting to Redis) will recur on every attempt. */
export function isPermanentRedisError(error: unknown): boolean {
  return PERMANENT.test(`${(error as { code?: string })?.code ?? ''} ${(error as Error)?.message ?? String(error)}`);
}

/**
 * A connection that tried once: connected and answering PING, or a TandemError saying where and
 * why, whose `permanent` says whether trying again could help. It never reconnects: for one look
 * (`cluster status`) or a probe, not for a service.
 */
export async function connectOnce(cluster: ResolvedCluster, timeoutMs = 10_000): Promise<import('ioredis').Redis> {
  const { Redis } = await import('ioredis');
  const redis = new Redis({ ...cluster.connection, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false, lazyConnect: true, connectTimeout: timeoutMs });
  let lastError: Error | undefined;
  redis.on('error', (e: Error) => void (lastError = e)); // reported below, not as ioredis's unhandled-error trace
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (error) {
    redis.disconnect();
    const cause = lastError ?? (error as Error);
    throw Object.assign(new TandemError('ERR_TANDEM_CLUSTER', `cannot reach the cluster's Redis at ${cluster.where}: ${cause.message}`, { cause }), { permanent: isPermanentRedisError(cause) || isPermanentRedisError(error) });
  }
}

/** Connects once, PINGs, disconnects; rejects as {@link connectOnce} does. */
export async function probeRedis(cluster: ResolvedCluster, timeoutMs = 10_000): Promise<void> {
  (await connectOnce(cluster, timeoutMs)).disconnect();
}
