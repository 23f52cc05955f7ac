/**
 * Real cluster nodes for tests: `tandem worker` processes, each its own Node process as a node on
 * another machine would be, started through the CLI and stopped with real signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { Tandem, type TandemOptions } from '../../src/index.ts';
import { startRedis, type RedisServer, type RedisServerOptions } from './redis-server.ts';

/** The CLI's TypeScript source. Not bin/tandem.mjs: that prefers a built dist/cli.js when one exists, which may be older than the sources under test. */
export const CLI = fileURLToPath(new URL('../../../backends/src/cli.ts', import.meta.url));
/** The repository root: `--import tsx` resolves from the working directory. */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** What the test nodes allow: the fixtures directory (cluster-tasks.ts and the other fixtures). */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const CLUSTER_TASKS = new URL('../fixtures/cluster-tasks.ts', import.meta.url);
/** A module outside {@link FIXTURES_DIR}: nodes started here must refuse it. */
export const OUTSIDE_ALLOWLIST = new URL('./outside-allowlist.ts', import.meta.url);

/** A node joins within this: a process start, tsx compiling the sources, a session's workers, a Redis connection — on a loaded 2-core machine. */
const JOIN_TIMEOUT_MS = 45_000;
/** A graceful stop finishes held jobs; tests hold short ones. */
const STOP_TIMEOUT_MS = 20_000;

export interface NodeProcess {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Everything it printed, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** Sends a signal (SIGKILL: no goodbye, held jobs must stall to another node). */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM and wait for the exit (SIGKILL after a timeout); resolves with the exit code. */
  stop(): Promise<number | string>;
}

export interface NodeOptions {
  redis: string;
  name: string;
  allow?: string[];
  workers?: number;
  concurrency?: number;
  /** Default `none`: a node of worker threads only, which starts in a fraction of the time Dawn takes to probe a GPU. */
  backends?: string;
  prefix?: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

const live = new Set<ChildProcess>();
// However a test run ends, no node outlives it.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `tandem worker` without waiting for it to join (for tests of its refusals). */
export function spawnNode(options: NodeOptions): NodeProcess {
  const args = [
    '--import', 'tsx', CLI, 'worker',
    '--redis', options.redis,
    '--allow', ...(options.allow ?? [FIXTURES_DIR]),
    '--workers', String(options.workers ?? 1),
    '--backends', options.backends ?? 'none',
    '--name', options.name,
    ...(options.concurrency !== undefined ? ['--concurrency', String(options.concurrency)] : []),
    ...(options.prefix !== undefined ? ['--prefix', options.prefix] : []),
    ...(options.extraArgs ?? []),
  ];
  // NODE_OPTIONS from vitest (--conditions=tandem:source) is inherited: the node runs the sources.
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  return {
    name: options.name,
    pid: child.pid!,
    process: child,
    output: () => output,
    exited,
    kill,
    async stop() {
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Starts a node and resolves once it printed `joined … as <name>`; rejects with its output if it exits or takes too long. */
export async function startNodeProcess(options: NodeOptions): Promise<NodeProcess> {
  const node = spawnNode(options);
  const joined = new RegExp(`^joined \\S+ as ${options.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm');
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (joined.test(node.output())) {
        cleanup();
        resolve();
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      node.kill('SIGKILL');
      reject(new Error(`node ${options.name} did not join within ${JOIN_TIMEOUT_MS} ms; it printed:\n${node.output()}`));
    }, JOIN_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`node ${options.name} exited (${code ?? signal}) before joining; it printed:\n${node.output()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      node.process.stdout!.off('data', check);
      node.process.off('exit', onExit);
    };
    node.process.stdout!.on('data', check);
    node.process.once('exit', onExit);
    check();
  });
  return node;
}

/** Starts several nodes at once. If one fails to join, the others are killed too. */
export async function startNodes(redis: string, names: string[], options: Omit<NodeOptions, 'redis' | 'name'> = {}): Promise<NodeProcess[]> {
  const settled = await Promise.allSettled(names.map((name) => startNodeProcess({ ...options, redis, name })));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    for (const s of settled) if (s.status === 'fulfilled') s.value.kill('SIGKILL');
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<NodeProcess>).value);
}

/** Kills every node still running (for afterAll, whatever happened). */
export async function killAllNodes(): Promise<void> {
  const children = [...live];
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
}

/** Polls `condition` every 20 ms until it holds; rejects after `timeoutMs` with `what`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A client session on the cluster that runs nothing itself (`workers: 0`): every task goes
 * through Redis to the nodes.
 */
export async function clusterClient(redis: string, options: Omit<TandemOptions, 'cluster' | 'workers'> = {}): Promise<Tandem> {
  return Tandem.create({ cluster: { redis }, workers: 0, ...options });
}

/** What {@link useCluster} set up, once its beforeAll ran. */
export interface ClusterFixture {
  readonly redis: RedisServer;
  readonly nodes: NodeProcess[];
  /** The client session (undefined when `client` was false). */
  readonly td: Tandem;
}

/**
 * The beforeAll/afterAll of a cluster test, inside its describe: a Redis, `names.length` nodes and
 * a client session (by default `workers: 0`); torn down whatever happened, each step after the
 * one before even if it failed, so no node or server outlives the file.
 */
export function useCluster(setup: {
  names: string[];
  nodes?: Omit<NodeOptions, 'redis' | 'name'>;
  redis?: RedisServerOptions | (() => RedisServerOptions);
  client?: ((redisUrl: string) => Promise<Tandem>) | false;
}): ClusterFixture {
  const state: { redis?: RedisServer; nodes: NodeProcess[]; td?: Tandem } = { nodes: [] };
  beforeAll(async () => {
    state.redis = await startRedis(typeof setup.redis === 'function' ? setup.redis() : setup.redis);
    state.nodes = await startNodes(state.redis.url, setup.names, setup.nodes);
    if (setup.client !== false) state.td = await (setup.client ?? clusterClient)(state.redis.url);
  }, 60_000);
  afterAll(async () => {
    await state.td?.close().catch(() => undefined);
    await Promise.all(state.nodes.map((n) => n.stop())).catch(() => undefined);
    await killAllNodes();
    await state.redis?.stop();
  });
  return {
    get redis() { return state.redis!; },
    get nodes() { return state.nodes; },
    get td() { return state.td!; },
  };
}
