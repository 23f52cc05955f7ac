/**
 * Processes of the cluster bench: `tandem worker` nodes (through the CLI, as a user starts them)
 * and raw BullMQ worker processes, each waited for until it says it is ready, and their CPU time
 * read from /proc (for the per-task cost model).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The user's command: `npx tandem` is this bin (built dist/cli.js if there, else the sources through tsx). */
const CLI = fileURLToPath(new URL('../../packages/backends/bin/tandem.mjs', import.meta.url));
const RAW_WORKER = fileURLToPath(new URL('../tasks/bullmq-worker.mjs', import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after 10 s; resolves once gone. */
  stop(): Promise<void>;
  /** User + system CPU time so far, ms (Linux /proc; NaN elsewhere or once gone). */
  cpuMs(): number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** CPU ms of a process from /proc/<pid>/stat (utime + stime, in clock ticks of 10 ms). */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

function start(name: string, args: string[], ready: RegExp): Promise<Proc> {
  // tsx loads the TypeScript; NODE_OPTIONS (e.g. --conditions=tandem:source without a build) is inherited.
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  live.add(child);
  let out = '';
  const onData = (b: Buffer) => {
    out += b.toString();
    if (out.length > 100_000) out = out.slice(-50_000);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((r) => child.once('exit', () => {
    live.delete(child);
    r();
  }));
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const proc: Proc = {
    name, pid: child.pid!, child, output: () => out, exited, kill,
    async stop() {
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
    cpuMs: () => processCpuMs(child.exitCode === null && child.signalCode === null ? child.pid : undefined),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`${name} not ready within ${READY_TIMEOUT_MS} ms:\n${out}`));
    }, READY_TIMEOUT_MS);
    const check = () => {
      if (ready.test(out)) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(proc);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${out}`));
    });
  });
}

/** `tandem worker --redis URL --allow DIR… --workers N --backends B (none) --name NAME --prefix P`. */
export function startTandemNode(o: { redis: string; allow: string | readonly string[]; name: string; prefix: string; workers: number; backends?: string }): Promise<Proc> {
  const allow = typeof o.allow === 'string' ? [o.allow] : o.allow;
  return start(o.name, [CLI, 'worker', '--redis', o.redis, '--allow', ...allow, '--workers', String(o.workers), '--backends', o.backends ?? 'none', '--name', o.name, '--prefix', o.prefix], new RegExp(`^joined \\S+ as ${o.name}$`, 'm'));
}

/** A plain BullMQ Worker process (tasks/bullmq-worker.mjs). */
export function startRawWorker(o: { redis: string; queue: string; prefix: string; concurrency: number; name: string }): Promise<Proc> {
  return start(o.name, [RAW_WORKER, o.redis, o.queue, o.prefix, String(o.concurrency)], /^ready$/m);
}

export async function stopAll(procs: readonly Proc[]): Promise<void> {
  await Promise.all(procs.map((p) => p.stop()));
}
