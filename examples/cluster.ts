/**
 * A Tandem cluster on one machine (`npx tsx examples/cluster.ts`): a Redis, two nodes (`tandem
 * worker` processes, as other machines would run them) and this script as the client with one
 * worker of its own. It shows the three ways work reaches the nodes:
 *   1. tasks: `runMany` of a function over many inputs, spread over every node;
 *   2. a kernel: `td.map`, split by the planner between this machine's worker and the nodes by
 *      measured costs (a heavy kernel goes out, a light one stays);
 *   3. a data job: flights-3m read with `{ shared: true }` and grouped on the nodes, only partial
 *      aggregates coming back.
 * With `--redis redis://host:6379` it uses your Redis and whatever nodes have joined it instead
 * of starting its own. Needs Debian's `redis-server` otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Tandem, Tensor } from '@tandem/core';
import '@tandem/backends';
import { heavySpin, lightSpin } from './tasks/spin.ts';

const { values: args } = parseArgs({ options: { redis: { type: 'string' } } });
const TASKS = new URL('./tasks/primes.ts', import.meta.url);
const FLIGHTS = fileURLToPath(new URL('../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url));
const CLI = fileURLToPath(new URL('../packages/backends/bin/tandem.mjs', import.meta.url));
const started: ChildProcess[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'tandem-cluster-'));

/** A free loopback port. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** Starts `command` and resolves once it printed a line matching `ready`. */
function startProcess(command: string, argv: string[], ready: RegExp, what: string): Promise<ChildProcess> {
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready:\n${output}`)));
  });
}

async function localCluster(): Promise<string> {
  if (spawnSync('redis-server', ['--version']).error) {
    console.error('This example starts a local Redis, and redis-server is not installed: `sudo apt-get install redis-server`, or pass --redis redis://host:6379 to use yours.');
    process.exit(1);
  }
  const port = await freePort();
  await startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', scratch, '--save', '', '--appendonly', 'no'], /Ready to accept connections/, 'redis-server');
  const redis = `redis://127.0.0.1:${port}`;
  // Nodes run only modules and read only data under what they allow: the example's tasks, the data, Tandem's own.
  const allow = [fileURLToPath(new URL('./tasks/', import.meta.url)), dirname(FLIGHTS), '@tandem/core'];
  await Promise.all(['node-a', 'node-b'].map((name) => startProcess(process.execPath, [CLI, 'worker', '--redis', redis, '--allow', ...allow, '--workers', '1', '--backends', 'cpu', '--name', name], new RegExp(`joined \\S+ as ${name}`), name)));
  return redis;
}

const seconds = (ms: number) => (ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`);

try {
  console.log('Tandem on a cluster: Redis, two nodes and this client, all on this machine\n');
  const redis = args.redis ?? (await localCluster());
  const td = await Tandem.create({ cluster: { redis }, workers: 1, backends: ['cpu'] });
  console.log('Devices (this machine, then each node):');
  for (const d of td.devices()) console.log(`  ${d.id.padEnd(22)} ${d.description}`);

  console.log('\n1. Tasks: count the primes below 200 million in 200 chunks, spread over every node');
  let t = performance.now();
  const chunk = 1_000_000;
  const counts = await td.runMany<number>(TASKS, 'countPrimes', Array.from({ length: 200 }, (_, i) => [i * chunk, (i + 1) * chunk]));
  console.log(`   ${counts.reduce((a, b) => a + b, 0).toLocaleString('en-US')} primes in ${seconds(performance.now() - t)}`);

  console.log('\n2. A kernel: td.map over 200,000 elements, split by the planner between this machine and the nodes');
  const x = Tensor.from(Float32Array.from({ length: 200_000 }, (_, i) => (i % 977) / 97), [200_000]);
  for (const [label, k] of [['heavy (200 rounds of sin/cos an element)', heavySpin], ['light (1 round)', lightSpin]] as const) {
    const time = async (options: { device?: string }) => {
      t = performance.now();
      await td.map(k, [x], { output: [x.size], ...options });
      return performance.now() - t;
    };
    // The first calls measure both devices; by the twelfth the planner splits (or doesn't) on what it learned.
    let planned = 0;
    for (let i = 0; i < 12; i++) planned = await time({});
    const here = await time({ device: 'cpu' });
    console.log(`   ${label}: ${seconds(planned)} placed by the planner, ${seconds(here)} on this machine alone (${(here / planned).toFixed(2)}×)`);
  }
  console.log('   td.explain() and td.trace() show where each piece ran: a heavy kernel is worth the trip through Redis, a light one is not.');

  console.log('\n3. A data job: flights-3m grouped by origin on the nodes ({ shared: true }: they read the file too)');
  t = performance.now();
  const flights = await td.read(FLIGHTS, { shared: true });
  const busiest = await flights.groupBy('origin').agg({ delay: ['mean', 'count'] }).sort('delay_count', { descending: true }).limit(5).toRows();
  console.log(`   ${td.lastPipelineRun()?.source}: ${seconds(performance.now() - t)}. The 5 busiest airports:`);
  for (const r of busiest) console.log(`   ${String(r.origin).padEnd(4)} ${(r.delay_count as number).toLocaleString('en-US').padStart(7)} flights, mean delay ${(r.delay_mean as number).toFixed(1)} min`);

  console.log(`\n${td.explain().split('\n').filter((l, i, all) => i >= all.findIndex((x) => x.startsWith('Cluster'))).join('\n')}`);
  await td.close();
} finally {
  for (const child of started.reverse()) child.kill('SIGTERM');
  await Promise.all(started.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  rmSync(scratch, { recursive: true, force: true });
}
