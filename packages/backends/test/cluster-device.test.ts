/**
 * The cluster as a device of a client's planner: a user kernel's call split over this machine's
 * workers and the other nodes (real `tandem worker` processes, real Redis), every element as one
 * device computes it; kernels the nodes cannot load stay here; a node killed while it holds a
 * slice leaves no call hanging — its range is computed here once the node is seen gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ArgumentError, Tandem, Tensor } from '@tandem/core';
import { sessionInternals } from '@tandem/core/internal/session/internals';
import { clusterStatus } from '@tandem/core/internal/cluster/status';
import { KERNEL_QUEUE, resolveCluster } from '@tandem/core/internal/cluster/options';
import { Queue } from 'bullmq';
import { anonymousSpinKernel, spinKernel } from '../../core/test/fixtures/cluster-tasks.ts';
import { FIXTURES_DIR, until, useCluster } from '../../core/test/helpers/cluster-nodes.ts';
import { redisOrSkip } from '../../core/test/helpers/redis-server.ts';
// Registers Tandem's backends (the client's CPU backend), as `import '@tandem/backends'` does for a user.
import '../src/index.ts';

/** Nodes with a CPU backend (they run kernels), allowing the fixtures and Tandem's own kernel task. */
const NODES = { backends: 'cpu', allow: [FIXTURES_DIR, '@tandem/core'] };
/** A client that splits every big enough call over all its devices (`eager`): the cluster takes chunks without being measured first. */
const eagerClient = (redis: string) => Tandem.create({ cluster: { redis }, workers: 1, backends: ['cpu'], policy: 'eager', costCache: false });

const input = (n: number) => Tensor.from(Float32Array.from({ length: n }, (_, i) => (i % 977) / 97), [n]);
/** The devices the spans of `td`'s session ran `kernel` on since `since` spans. */
const devicesOf = (td: Tandem, kernel: string, since: number) =>
  new Set(sessionInternals(td).recorder.spans().slice(since).filter((s) => s.kernel === `user:${kernel}`).map((s) => s.track));

describe.skipIf(!redisOrSkip())('the cluster as a device of the planner', () => {
  const cluster = useCluster({ names: ['slices-a'], nodes: NODES, client: eagerClient });

  it('lists the node among the devices, not a device of its own', () => {
    const ids = cluster.td.devices().map((d) => d.id);
    expect(ids).toContain('node:slices-a');
    expect(ids).not.toContain('cluster');
  });

  it("splits a user kernel over this machine's workers and the node: every element as the CPU alone computes it", async () => {
    const x = input(40_000);
    const since = sessionInternals(cluster.td).recorder.spans().length;
    const split = await cluster.td.map(spinKernel, [x, 300], { output: [x.size] });
    expect(devicesOf(cluster.td, 'spinKernel', since)).toEqual(new Set(['cpu', 'cluster']));
    const here = await cluster.td.map(spinKernel, [x, 300], { output: [x.size], device: 'cpu' });
    expect(Buffer.from(split.data.buffer, split.data.byteOffset, split.data.byteLength).equals(Buffer.from(here.data.buffer, here.data.byteOffset, here.data.byteLength))).toBe(true);
    // Its chunks are jobs of the kernel-slice queue, run by the node: completed there, none failed.
    const { queue } = await clusterStatus({ redis: cluster.redis.url });
    expect(queue.completed).toBeGreaterThan(0);
    expect(queue.failed).toBe(0);
  }, 120_000);

  it('keeps a kernel declared without its module on this machine (no node could load it)', async () => {
    const x = input(40_000);
    const since = sessionInternals(cluster.td).recorder.spans().length;
    const out = await cluster.td.map(anonymousSpinKernel, [x, 50], { output: [x.size] });
    expect(devicesOf(cluster.td, 'anonymousSpinKernel', since)).toEqual(new Set(['cpu']));
    const here = await cluster.td.map(spinKernel, [x, 50], { output: [x.size], device: 'cpu' });
    expect([...out.data]).toEqual([...here.data]);
    // Naming the cluster for it is refused at the call, naming the option.
    await expect(cluster.td.map(anonymousSpinKernel, [x, 50], { output: [x.size], device: 'cluster' })).rejects.toSatisfy((e: unknown) => e instanceof ArgumentError && e.argument === 'options.device');
  }, 120_000);
});

describe.skipIf(!redisOrSkip())('a node killed while it holds a kernel slice', () => {
  const cluster = useCluster({ names: ['slices-doomed'], nodes: NODES, client: eagerClient });

  it('leaves no call hanging: the slice is computed here once the node is seen gone, every element once', async () => {
    const x = input(40_000);
    const since = sessionInternals(cluster.td).recorder.spans().length;
    // Slices long enough (a fraction of a second each) to kill the node under one.
    const slices = new Queue(KERNEL_QUEUE, { connection: resolveCluster({ redis: cluster.redis.url }).connection, prefix: resolveCluster({ redis: cluster.redis.url }).prefix });
    const running = cluster.td.map(spinKernel, [x, 5000], { output: [x.size] });
    try {
      await until(async () => (await slices.getActiveCount()) > 0, 60_000, 'the node to hold a slice');
    } finally {
      await slices.close();
    }
    cluster.nodes[0]!.kill('SIGKILL');
    const out = await running;
    const spans = sessionInternals(cluster.td).recorder.spans().slice(since).filter((s) => s.kernel === 'user:spinKernel');
    expect(spans.some((s) => s.track === 'cluster' && typeof s.args.error === 'string'), 'a cluster chunk failed').toBe(true);
    // Every element, whoever computed it, is what the CPU computes.
    const here = await cluster.td.map(spinKernel, [x, 5000], { output: [x.size], device: 'cpu' });
    expect([...out.data]).toEqual([...here.data]);
    // With no node left, the cluster is out of the planner's devices: the next call stays here.
    const after = sessionInternals(cluster.td).recorder.spans().length;
    await cluster.td.map(spinKernel, [x, 10], { output: [x.size] });
    expect(devicesOf(cluster.td, 'spinKernel', after)).toEqual(new Set(['cpu']));
  }, 120_000);
});

describe.skipIf(!redisOrSkip())('a node started as users start it (the built CLI, no TypeScript loader in its flags)', () => {
  const BIN = fileURLToPath(new URL('../bin/tandem.mjs', import.meta.url));
  const cluster = useCluster({ names: [], client: false });
  let node: ChildProcess | undefined;
  afterAll(() => void node?.kill('SIGKILL'));

  it("loads a kernel's .ts module in its main thread for a slice", async () => {
    // No NODE_OPTIONS (vitest's --conditions=tandem:source): the node runs the built packages, as
    // `npx tandem worker` does, and nothing but the CLI itself brings tsx's loader in.
    node = spawn(process.execPath, [BIN, 'worker', '--redis', cluster.redis.url, '--allow', FIXTURES_DIR, '@tandem/core', '--workers', '1', '--backends', 'cpu', '--name', 'built'], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    node.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    node.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await until(() => /joined \S+ as built/.test(output), 45_000, `the node to join; it printed:\n${output}`);
    const td = await eagerClient(cluster.redis.url);
    try {
      const x = input(40_000);
      const since = sessionInternals(td).recorder.spans().length;
      const out = await td.map(spinKernel, [x, 50], { output: [x.size] });
      const spans = sessionInternals(td).recorder.spans().slice(since).filter((sp) => sp.track === 'cluster');
      expect(spans.length).toBeGreaterThan(0);
      expect(spans.map((sp) => sp.args.error).filter(Boolean)).toEqual([]);
      const here = await td.map(spinKernel, [x, 50], { output: [x.size], device: 'cpu' });
      expect([...out.data]).toEqual([...here.data]);
    } finally {
      await td.close();
    }
  }, 120_000);
});
