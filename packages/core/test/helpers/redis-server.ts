/**
 * A throwaway Redis for tests: Debian's `redis-server`, started on a free loopback port in a
 * fresh temporary directory, with the append-only file on so that a restart brings the data back.
 *
 * Tests that need Redis call {@link redisOrSkip}: without `redis-server` they skip and say why,
 * unless `TANDEM_REQUIRE_REDIS=1` (CI sets it after installing the package), where they fail —
 * the same contract as the GPU tests' TANDEM_REQUIRE_GPU.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` (with `:password@` when started with one). */
  readonly url: string;
  readonly port: number;
  /** The server's data directory (AOF and log live here); removed by {@link RedisServer.stop}. */
  readonly dir: string;
  /** The running server's process id (changes on restart). */
  readonly pid: () => number | undefined;
  /** Graceful: SHUTDOWN (the AOF is flushed), SIGKILL if it hangs, then the directory is removed. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, no flush: what `appendfsync` did not write is lost. The directory stays, for {@link RedisServer.restart}. */
  kill(): Promise<void>;
  /**
   * Stops the server if it runs (gracefully, or with SIGKILL when `hard`), then starts it again on
   * the same port and directory: the AOF brings the data back.
   */
  restart(options?: { hard?: boolean }): Promise<void>;
  /** The server's log so far (its stdout and stderr), for failure messages. */
  log(): string;
}

export interface RedisServerOptions {
  /**
   * AOF fsync policy. `everysec` (default) is Redis's production default: a SIGKILL may lose up
   * to a second of writes, a graceful shutdown loses nothing. `always` fsyncs before every reply,
   * so even SIGKILL loses nothing, at a cost per write round (fine on a test's small data).
   */
  appendfsync?: 'always' | 'everysec';
  /** `requirepass`: clients must AUTH (the URL carries it as `redis://:password@…`). */
  password?: string;
  /** TLS only (no plain port): PEM files of the server's certificate and key, and the CA that signed it. The URL is then `rediss://`. */
  tls?: { cert: string; key: string; ca: string };
}

const BINARY = process.env.TANDEM_REDIS_SERVER ?? 'redis-server';
/** How long a start may take before the test fails: Redis itself starts in milliseconds; a loaded 2-core machine needs slack. */
const START_TIMEOUT_MS = 15_000;
/** How long a SHUTDOWN may take before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

let probed: { available: boolean; reason?: string; version?: string } | undefined;

/** Whether `redis-server` can run here (cached). */
export function redisAvailability(): { available: boolean; reason?: string; version?: string } {
  if (!probed) {
    const r = spawnSync(BINARY, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (r.error || r.status !== 0) {
      const why = r.error ? (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${BINARY} not found on PATH` : r.error.message : `${BINARY} --version exited ${r.status}`;
      probed = { available: false, reason: `${why} (apt-get install redis-server)` };
    } else {
      probed = { available: true, version: r.stdout.trim() };
    }
  }
  return probed;
}

/**
 * For `describe.skipIf(!redisOrSkip())`: true when Redis tests can run. Without `redis-server`
 * it warns and returns false, or throws when `TANDEM_REQUIRE_REDIS=1`.
 */
export function redisOrSkip(): boolean {
  const { available, reason } = redisAvailability();
  if (available) return true;
  if (process.env.TANDEM_REQUIRE_REDIS === '1') throw new Error(`TANDEM_REQUIRE_REDIS=1 but Redis can't run: ${reason}`);
  console.warn(`skipping Redis tests: ${reason}`);
  return false;
}

/**
 * A port free right now on 127.0.0.1: the OS picks one for a listener on port 0, which is then
 * closed. Another process could take it before Redis binds; {@link startRedis} retries then.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port from the OS'))));
    });
  });
}

/** Every server still running: killed when this process exits, however the test ended. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function ping(port: number, password: string | undefined, ca: string | undefined): Promise<boolean> {
  // One attempt, no reconnects and no offline queue: the caller polls.
  const client = new Redis({ host: '127.0.0.1', port, password, ...(ca ? { tls: { ca: readFileSync(ca) } } : {}), lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch (error) {
    // Loading the AOF answers LOADING: not ready yet.
    return false;
  } finally {
    client.disconnect();
  }
}

/** Starts a Redis server for a test; call `stop()` in afterAll. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const { available, reason } = redisAvailability();
  if (!available) throw new Error(`can't start Redis: ${reason}`);
  const dir = mkdtempSync(join(tmpdir(), 'tandem-redis-'));
  const password = options.password;
  let port = 0;
  let child: ChildProcess | undefined;
  let log = '';

  const launch = async (): Promise<'ok' | 'port-taken'> => {
    const args = [
      '--port', String(port),
      // Loopback only: a test server is reachable from this machine alone.
      '--bind', '127.0.0.1',
      '--dir', dir,
      // The AOF is what survives a restart; RDB snapshots are off so the AOF alone is tested (and no fork mid-test).
      '--appendonly', 'yes',
      '--appendfsync', options.appendfsync ?? 'everysec',
      '--save', '',
      // In the foreground, so the test owns the process and sees its exit.
      '--daemonize', 'no',
      '--logfile', '',
      // No need for the kernel warnings about overcommit/THP on a test box.
      '--loglevel', 'warning',
      ...(password ? ['--requirepass', password] : []),
      ...(options.tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.cert, '--tls-key-file', options.tls.key, '--tls-ca-cert-file', options.tls.ca, '--tls-auth-clients', 'no'] : []),
    ];
    const proc = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    live.add(proc);
    proc.on('exit', () => live.delete(proc));
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.length > 64_000) log = log.slice(-32_000);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    let gone = false;
    proc.once('exit', () => (gone = true));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (gone) return /Address already in use/i.test(log) ? 'port-taken' : Promise.reject(new Error(`redis-server exited at start (code ${proc.exitCode}):\n${log}`));
      if (await ping(port, password, options.tls?.ca)) return 'ok';
      await new Promise((r) => setTimeout(r, 25));
    }
    proc.kill('SIGKILL');
    throw new Error(`redis-server did not answer PING within ${START_TIMEOUT_MS} ms:\n${log}`);
  };

  try {
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      if ((await launch()) === 'ok') break;
      if (attempt >= 4) throw new Error(`redis-server found its port taken 5 times:\n${log}`);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const shutdown = async (hard: boolean) => {
    if (!child || !running()) return;
    const proc = child;
    if (hard) {
      proc.kill('SIGKILL');
    } else {
      // SIGTERM is Redis's SHUTDOWN: it fsyncs the AOF and exits. It also works when the server
      // needs a password or is busy, which a SHUTDOWN over a client connection would not.
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited(proc);
      clearTimeout(timer);
    }
    await exited(proc);
  };

  let stopped = false;
  return {
    url: `${options.tls ? 'rediss' : 'redis'}://${password ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}`,
    port,
    dir,
    pid: () => (running() ? child!.pid : undefined),
    log: () => log,
    async stop() {
      if (stopped) return;
      stopped = true;
      await shutdown(false);
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await shutdown(true);
    },
    async restart({ hard = false } = {}) {
      if (stopped) throw new Error('restart after stop: the directory is gone');
      await shutdown(hard);
      // The same port: clients reconnect to the address they know. Nothing else should have
      // taken it in the moment between; if something did, say so rather than move.
      if ((await launch()) !== 'ok') throw new Error(`port ${port} was taken while Redis restarted:\n${log}`);
    },
  };
}
