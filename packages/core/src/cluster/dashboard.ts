/**
 * `npx tandem cluster dashboard`: bull-board (the BullMQ dashboard Node users already know) over
 * the cluster's task and kernel-slice queues, plus `/nodes`, the live nodes as `cluster status --json` gives them
 * (bull-board sees jobs, not the machines that run them).
 *
 * Read-only unless asked: from bull-board a job can be retried, promoted or removed, and a
 * removed job is a task whose caller then waits for its retry policy to fail it. Listens on
 * loopback unless another host is given: the page shows task arguments' references and errors.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArgumentError } from '../errors.ts';
import { connectOnce } from './probe.ts';
import { liveNodes } from './heartbeat.ts';
import { KERNEL_QUEUE, QUEUES, resolveCluster, TASK_QUEUE, type ClusterOptions, type QueueName } from './options.ts';

const DESCRIPTIONS: Readonly<Record<QueueName, string>> = {
  [TASK_QUEUE]: 'Tandem tasks: run, runMany, stream, session tasks',
  [KERNEL_QUEUE]: "Kernel slices: the ranges of td.map and withColumn calls clients' planners give the cluster",
};

export interface DashboardOptions extends ClusterOptions {
  /** TCP port; 0 picks a free one. Default 3000. */
  readonly port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** Allow bull-board's job actions (retry, promote, remove, clean). Default false: read-only. */
  readonly actions?: boolean;
}

export interface Dashboard {
  /** Where the page is, e.g. `http://127.0.0.1:3000/`. */
  readonly url: string;
  /** Stops the server and closes its Redis connections. */
  close(): Promise<void>;
}

/**
 * Serves the dashboard until `close()`.
 *
 * @example
 * ```ts
 * const board = await startDashboard({ redis: 'redis://127.0.0.1:6379', port: 3000 });
 * console.log(`open ${board.url}`);
 * ```
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const cluster = resolveCluster(options, 'options');
  const port = options.port ?? 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ArgumentError('options.port', 'an integer port from 0 to 65535', options.port);
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') throw new ArgumentError('options.host', 'an interface name or address', options.host);
  // Fail fast with Redis's own words (a wrong password, an untrusted certificate), as `cluster status` does.
  const redis = await connectOnce(cluster);
  const [{ Queue }, { createBullBoard }, { BullMQAdapter }, { ExpressAdapter }, { default: express }] = await Promise.all([
    import('bullmq'), import('@bull-board/api'), import('@bull-board/api/bullMQAdapter'), import('@bull-board/express'), import('express'),
  ]);
  const queues = QUEUES.map((name) => new Queue(name, { connection: cluster.connection, prefix: cluster.prefix }));
  // A Redis that goes away shows as errors on the page, not as a crash.
  for (const q of queues) q.on('error', () => {});
  const closeQueues = () => Promise.all(queues.map((q) => q.close()));
  const board = new ExpressAdapter();
  board.setBasePath('/');
  createBullBoard({
    queues: queues.map((q, i) => new BullMQAdapter(q, { readOnlyMode: !options.actions, description: DESCRIPTIONS[QUEUES[i]!] })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'Tandem cluster' } },
  });
  const app = express();
  app.get('/nodes', (_req, res) => {
    liveNodes(redis, cluster.prefix).then((nodes) => res.json({ nodes }), (error: Error) => res.status(503).json({ error: error.message }));
  });
  app.use('/', board.getRouter());
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
  }).catch(async (error: Error) => {
    await closeQueues();
    redis.disconnect();
    throw new ArgumentError('options.port', `a port free on ${host} (${error.message})`, port);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closeQueues();
      redis.disconnect();
    },
  };
}
