/**
 * `npx tandem <command>`:
 *   devices     every backend with its device, or why it is unavailable and how to fix that
 *   calibrate   time kernels on every device at a few sizes, save the learned costs, print them
 *   worker      join a cluster: run jobs from Redis in a local session (issue 13)
 *   cluster status   the cluster's nodes and queue counts
 *   cluster dashboard   bull-board over the cluster's task queue, and its nodes, in a browser
 */
import { Tandem } from '@tandem/core';
import { Tensor } from '@tandem/core/backend';
import { predictPower } from '@tandem/core/internal/planner/power-fit';
import { listDevices } from './index.ts';
import { parseDashboardArgs, parseStatusArgs, parseWorkerArgs, redactUrl, redisAddress, UsageError } from './cli-args.ts';

function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / 2 ** 20)} MiB`;
}

async function devices(_argv: string[] = []): Promise<number> {
  const rows = await listDevices();
  // webgpu and gpujs share one Dawn adapter, so a missing driver fails both with the same fix: say it once.
  const fixesShown = new Set<string>();
  for (const row of rows) {
    if (row.status === 'available') {
      const d = row.device;
      const flags = [d.kind, d.software ? 'software' : '', `max buffer ${formatBytes(d.limits.maxBufferBytes)}`].filter(Boolean).join(', ');
      console.log(`✓ ${row.backend.padEnd(7)} ${d.id.padEnd(12)} ${d.description}  [${flags}]`);
    } else {
      const reason = row.fix ? row.reason.replace(` — ${row.fix}`, '') : row.reason;
      const shown = row.fix !== undefined && fixesShown.has(row.fix);
      console.log(`✗ ${row.backend.padEnd(7)} unavailable: ${reason}${shown ? ' (fix above)' : ''}`);
      if (row.fix && !shown) {
        fixesShown.add(row.fix);
        console.log(`  fix: ${row.fix}`);
      }
    }
  }
  return 0;
}

/** Kernels and sizes calibration measures: enough points for a·nᵇ + c, a few seconds per device. */
const CALIBRATION: Array<{ kernel: string; sizes: number[]; make(n: number): Tensor[] }> = [
  { kernel: 'saxpy', sizes: [1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22], make: (n) => [Tensor.zeros([n]), Tensor.zeros([n])] },
  { kernel: 'sum', sizes: [1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22], make: (n) => [Tensor.zeros([n])] },
  { kernel: 'matmul', sizes: [64, 128, 256, 512], make: (n) => [Tensor.zeros([n, n]), Tensor.zeros([n, n])] },
];

async function calibrate(_argv: string[] = []): Promise<number> {
  const td = await Tandem.create();
  try {
    for (const device of td.devices()) {
      process.stdout.write(`calibrating ${device.id} …`);
      for (const { kernel, sizes, make } of CALIBRATION) {
        for (const n of sizes) {
          const args = make(n);
          const run = () => {
            const ops = td.ops as unknown as Record<string, (...a: unknown[]) => Tensor>;
            return (kernel === 'saxpy' ? ops.saxpy!(args[0], args[1], 2, { device: device.id }) : ops[kernel]!(...args, { device: device.id })).values();
          };
          // The first run compiles and uploads; the next ones are what the planner should expect.
          try {
            for (let rep = 0; rep < 3; rep++) await run();
          } catch {
            break; // this device does not run this kernel
          }
        }
      }
      console.log(' done');
    }
  } finally {
    await td.close();
  }
  console.log(`\nLearned models (t = a·nᵇ + c, ms; n = output elements, or input elements for reductions):`);
  for (const row of td.costs.describe().sort((a, b) => a.key.localeCompare(b.key))) {
    if (!row.fit) continue;
    const { a, b, c } = row.fit;
    const at = row.kind === 'transfer' ? `${(1 / Math.max(a, 1e-12) / 1e6).toFixed(2)} GB/s, latency ${c.toFixed(3)} ms` : `1M elements → ${predictPower(row.fit, 1 << 20).toFixed(2)} ms`;
    console.log(`  ${row.kind.padEnd(8)} ${row.key.padEnd(22)} a=${a.toExponential(2)} b=${b.toFixed(3)} c=${c.toFixed(3)}  (${row.samples} samples; ${at})`);
  }
  return 0;
}

const WORKER_USAGE = `usage: tandem worker --redis URL --allow <dir-or-package>… [--workers N] [--backends a,b|none] [--name NAME] [--concurrency N] [--prefix P]

  --redis        redis:// or rediss:// URL; a password in it (redis://:pw@host:6379) is used for AUTH
  --allow        directories (or package names) whose task modules this node may run; required
                 ('*' runs any module a client names: only for a cluster whose clients are all trusted)
  --workers      worker threads of the local session (default: the machine's parallelism)
  --backends     backends to open, comma-separated, or none (default: every one that works here)
  --name         the node's name in \`tandem cluster status\` (default: host-pid)
  --concurrency  jobs held at once (default: the library's)
  --prefix       BullMQ key prefix (default: the library's)

Stops gracefully on SIGTERM or SIGINT (held jobs finish or go back to the queue); a second signal exits at once.`;

const STATUS_USAGE = 'usage: tandem cluster status --redis URL [--prefix P] [--json]';
const DASHBOARD_USAGE = `usage: tandem cluster dashboard --redis URL [--prefix P] [--port 3000] [--host 127.0.0.1] [--actions]

  Serves bull-board over the cluster's task queue at http://HOST:PORT/, and the live nodes as JSON
  at /nodes. Read-only unless --actions (retry, promote, remove jobs); loopback unless --host.`;

/** Prints `usage` when `argv` asks for help; whether it did. */
function printedHelp(argv: readonly string[], usage: string): boolean {
  if (!argv.includes('--help') && !argv.includes('-h')) return false;
  console.log(usage);
  return true;
}

/** Joins the cluster and runs jobs until a signal; resolves to the exit code. */
async function worker(argv: string[]): Promise<number> {
  if (printedHelp(argv, WORKER_USAGE)) return 0;
  const args = parseWorkerArgs(argv);
  // First signal: leave gracefully (held jobs finish or go back to the queue); second: exit now.
  let signalled: NodeJS.Signals | undefined;
  let node: { close(): Promise<void> } | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  const leave = () => {
    console.log(`${signalled}: leaving the cluster (held jobs finish or go back to the queue)…`);
    node!.close().then(() => {
      console.log('left the cluster');
      resolveDone(0);
    }, (error: unknown) => {
      console.error(`tandem worker: closing failed: ${(error as Error).message}`);
      resolveDone(1);
    });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      // Asked twice: exit now. Jobs this node held are picked up by another node once their locks
      // expire (BullMQ's stalled-job check), so nothing is lost, only delayed by the lock time.
      console.log(`${signal} again: exiting at once`);
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    }
    signalled = signal;
    if (node) leave();
    else {
      // Not joined yet (still connecting, or Redis unreachable): no job is held, nothing to hand back.
      console.log(`${signal} before joining: exiting`);
      process.exit(0);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const { startNode } = await import('@tandem/core/internal/cluster/node');
  // Session tasks and kernel slices load their modules in this thread, as workers load task
  // modules in theirs: with tsx's loader where it is installed, so `.ts` modules load as they are.
  await import('tsx/esm/api').then((tsx) => tsx.register(), () => undefined);
  console.log(`connecting to ${redisAddress(args.redis)}…`);
  // The Redis client retries for ever (a node should outlast a Redis restart), so an unreachable
  // server would look like a silent hang: say so while it lasts.
  const slow = setInterval(() => console.log(`still connecting to ${redisAddress(args.redis)} — is Redis running there, and the password right?`), 10_000);
  slow.unref();
  const started = await startNode({
    redis: args.redis,
    allow: args.allow,
    ...(args.workers !== undefined && { workers: args.workers }),
    ...(args.backends !== undefined && { backends: args.backends }),
    ...(args.name !== undefined && { name: args.name }),
    ...(args.concurrency !== undefined && { concurrency: args.concurrency }),
    ...(args.prefix !== undefined && { prefix: args.prefix }),
  });
  clearInterval(slow);
  node = started;
  for (const d of started.devices()) {
    console.log(`device ${d.id.padEnd(12)} ${d.description}  [${[d.kind, d.software ? 'software' : '', `${d.lanes} lane${d.lanes === 1 ? '' : 's'}`].filter(Boolean).join(', ')}]`);
  }
  console.log(`allow ${args.allow.join(' ')}`);
  // Tests and scripts wait for this line: the node consumes jobs from here on.
  console.log(`joined ${redisAddress(args.redis)} as ${started.name}`);
  return done;
}

function ago(ms: number): string {
  if (!(ms >= 0)) return '—';
  if (ms < 1_000) return 'now';
  if (ms < 120_000) return `${Math.round(ms / 1000)} s ago`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min ago`;
  return `${Math.round(ms / 3_600_000)} h ago`;
}

/** Prints the cluster's nodes and queue counts. */
async function clusterStatusCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, STATUS_USAGE)) return 0;
  const args = parseStatusArgs(argv);
  const { clusterStatus } = await import('@tandem/core/internal/cluster/status');
  const status = await clusterStatus({ redis: args.redis, ...(args.prefix !== undefined && { prefix: args.prefix }) });
  if (args.json) {
    console.log(JSON.stringify(status, null, 2));
    return 0;
  }
  const now = Date.now();
  console.log(`cluster at ${redisAddress(args.redis)}: ${status.nodes.length} node${status.nodes.length === 1 ? '' : 's'}`);
  if (status.nodes.length > 0) {
    // Jobs (RUNNING, COMPLETED, FAILED) and, inside them, tasks with their run time and the workers' busy share.
    const header = ['NAME', 'HOST', 'PID', 'DEVICES', 'WORKERS', 'RUNNING', 'COMPLETED', 'FAILED', 'TASKS', 'RUN P50', 'BUSY', 'LAST SEEN'];
    const rows = status.nodes.map((n) => [
      n.name, n.host, String(n.pid), n.devices.join(',') || '—', String(n.workers), String(n.running), String(n.completed), String(n.failed),
      n.stats ? String(n.stats.tasks.completed) : '—', n.stats ? `${n.stats.runMs.p50.toFixed(1)} ms` : '—', n.stats ? `${Math.round(n.stats.utilisation * 100)}%` : '—',
      ago(now - n.lastSeen),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [header, ...rows]) console.log(`  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}`);
  }
  const q = status.queue;
  console.log(`queue: ${q.waiting} waiting, ${q.active} active, ${q.delayed} delayed, ${q.failed} failed, ${q.completed} completed`);
  return 0;
}

/** Serves the dashboard until SIGINT or SIGTERM. */
async function clusterDashboardCommand(argv: string[]): Promise<number> {
  if (printedHelp(argv, DASHBOARD_USAGE)) return 0;
  const args = parseDashboardArgs(argv);
  const { startDashboard } = await import('@tandem/core/internal/cluster/dashboard');
  const board = await startDashboard({
    redis: args.redis, port: args.port, host: args.host, actions: args.actions, ...(args.prefix !== undefined && { prefix: args.prefix }),
  });
  console.log(`Tandem cluster dashboard for ${redisAddress(args.redis)} at ${board.url} (${args.actions ? 'job actions allowed' : 'read-only'}); Ctrl-C stops it`);
  const signalled = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await board.close();
  console.log(`${signalled}: dashboard stopped`);
  return 0;
}

async function cluster(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'status') return clusterStatusCommand(rest);
  if (sub === 'dashboard') return clusterDashboardCommand(rest);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(`${STATUS_USAGE}\n${DASHBOARD_USAGE.split('\n')[0]}`);
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`tandem cluster: unknown subcommand '${sub}' (status, dashboard)`);
}

const commands: Record<string, (argv: string[]) => Promise<number>> = { devices, calibrate, worker, cluster };
const [command = 'help', ...rest] = process.argv.slice(2);
const run = commands[command];
if (!run) {
  console.log('usage: tandem <command>\n\n  devices     list every backend, its device and status (and how to fix an unavailable one)\n  calibrate   time kernels on every device, save the learned costs (reused by later sessions) and print them\n  worker      join a cluster on Redis and run its jobs (tandem worker --help)\n  cluster status   list the cluster\'s nodes and queue counts (tandem cluster status --redis URL)\n  cluster dashboard   bull-board over the cluster in a browser (tandem cluster dashboard --redis URL)');
  process.exitCode = command === 'help' || command === '--help' ? 0 : 2;
} else {
  try {
    const code = await run(rest);
    // A worker's or a status's Redis connections may hold the event loop open after the command
    // is done with them: its code is final, so exit with it.
    if (command === 'worker' || command === 'cluster') process.exit(code);
    process.exitCode = code;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      process.exit(2);
    }
    let message = (error as Error)?.message ?? String(error);
    // Never print a password: messages from the Redis client may quote the URL.
    const argv = process.argv.slice(2);
    const at = argv.findIndex((a) => a === '--redis' || a.startsWith('--redis='));
    const url = at < 0 ? undefined : argv[at]!.startsWith('--redis=') ? argv[at]!.slice('--redis='.length) : argv[at + 1];
    if (url) message = message.split(url).join(redactUrl(url));
    console.error(`tandem ${command}: ${message}`);
    process.exit(1);
  }
}
