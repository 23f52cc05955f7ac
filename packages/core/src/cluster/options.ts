/**
 * How a session or a node reaches the cluster: a Redis URL (`redis://user:pass@host:6379/0`,
 * `rediss://` for TLS) or ioredis connection options, and the key prefix every queue, blob and
 * heartbeat lives under.
 */
import { isIP } from 'node:net';
import { ArgumentError } from '../errors.ts';

/** `Tandem.create({ cluster })` and `startNode`'s way to Redis. */
export interface ClusterOptions {
  /** A Redis URL; `rediss://` connects with TLS, user and password authenticate (Redis AUTH). */
  readonly redis?: string;
  /** ioredis connection options, instead of (or on top of) `redis`. */
  readonly connection?: Readonly<Record<string, unknown>>;
  /** Prefix of every key Tandem writes. Default 'tandem'. */
  readonly prefix?: string;
  /** Seconds a blob (a tensor or large argument, or a result) lives in Redis. Default 3,600. */
  readonly blobTtlSeconds?: number;
  /**
   * Seconds after a client's last heartbeat (it died, or lost Redis) before nodes drop its jobs
   * instead of running them. Default 30.
   */
  readonly clientGraceSeconds?: number;
}

export interface ResolvedCluster {
  readonly connection: Record<string, unknown>;
  readonly prefix: string;
  readonly blobTtlSeconds: number;
  readonly clientGraceSeconds: number;
  /** host:port, for messages (never the password). */
  readonly where: string;
}

/** The queue every task job goes through. */
export const TASK_QUEUE = 'tasks';
/**
 * The queue of kernel slices a client's planner gives to the cluster as a device
 * (`cluster-device.ts`). Stand-alone nodes take them; a client's own node does not, since its
 * machine's devices already take their share of the call directly.
 */
export const KERNEL_QUEUE = 'kernels';
/** Both queues: what `cluster status` counts and the dashboard shows. */
export const QUEUES = [TASK_QUEUE, KERNEL_QUEUE] as const;
export type QueueName = (typeof QUEUES)[number];

export function resolveCluster(options: unknown, argument = 'cluster'): ResolvedCluster {
  if (typeof options !== 'object' || options === null) throw new ArgumentError(argument, "{ redis: 'redis://host:6379' } or { connection: {...} }", options);
  const o = options as ClusterOptions;
  if (o.redis === undefined && o.connection === undefined) throw new ArgumentError(`${argument}.redis`, "a Redis URL such as 'redis://127.0.0.1:6379'", o.redis);
  const connection: Record<string, unknown> = {};
  let where = 'redis';
  if (o.redis !== undefined) {
    let url: URL;
    try {
      url = new URL(o.redis);
    } catch {
      throw new ArgumentError(`${argument}.redis`, "a Redis URL such as 'redis://127.0.0.1:6379'", o.redis);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ArgumentError(`${argument}.redis`, 'a redis:// or rediss:// URL', o.redis);
    connection.host = url.hostname || '127.0.0.1';
    connection.port = url.port ? Number(url.port) : 6379;
    if (url.username) connection.username = decodeURIComponent(url.username);
    if (url.password) connection.password = decodeURIComponent(url.password);
    const db = url.pathname.replace(/^\//, '');
    if (db) connection.db = Number(db);
    // SNI takes host names only: Node warns on an IP address (RFC 6066), and needs none to check the certificate's IP.
    if (url.protocol === 'rediss:') connection.tls = isIP(url.hostname) ? {} : { servername: url.hostname };
    where = `${connection.host as string}:${connection.port as number}`;
  }
  if (o.connection !== undefined) {
    if (typeof o.connection !== 'object' || o.connection === null) throw new ArgumentError(`${argument}.connection`, 'ioredis connection options', o.connection);
    Object.assign(connection, o.connection);
    if (o.redis === undefined) where = `${String(connection.host ?? '127.0.0.1')}:${String(connection.port ?? 6379)}`;
  }
  // BullMQ's blocking commands need ioredis to retry for ever rather than fail a request.
  connection.maxRetriesPerRequest = null;
  const prefix = o.prefix ?? 'tandem';
  if (typeof prefix !== 'string' || !/^[\w.-]+$/.test(prefix)) throw new ArgumentError(`${argument}.prefix`, 'letters, digits, _ . -', prefix);
  const blobTtlSeconds = o.blobTtlSeconds ?? 3600;
  if (!Number.isSafeInteger(blobTtlSeconds) || blobTtlSeconds < 10) throw new ArgumentError(`${argument}.blobTtlSeconds`, 'an integer ≥ 10', blobTtlSeconds);
  const clientGraceSeconds = o.clientGraceSeconds ?? 30;
  if (!Number.isSafeInteger(clientGraceSeconds) || clientGraceSeconds < 1) throw new ArgumentError(`${argument}.clientGraceSeconds`, 'a positive integer', clientGraceSeconds);
  return { connection, prefix, blobTtlSeconds, clientGraceSeconds, where };
}
