/**
 * Faults of a cluster: a node killed with SIGKILL mid-run, and Redis restarted mid-run. In both,
 * every task settles exactly once for the caller, with its exact result, in a bounded time.
 *
 * Delivery is at least once (a killed node's jobs run again elsewhere), so the tasks are pure;
 * what is checked is that the client sees each one settle once: the stream yields every index
 * exactly once and the progress count never passes the total.
 *
 * Time bound: a SIGKILLed node's jobs are found by BullMQ's stalled-job check once their lock
 * expires. The library keeps both at seconds (lock duration and stalled interval), so a killed
 * node's work completes elsewhere well within RECOVERY_BOUND_MS; with BullMQ's defaults (30 s
 * locks) it would not.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Settled, Tandem } from '../src/index.ts';
import { CLUSTER_TASKS, clusterClient, killAllNodes, startNodes, until, type NodeProcess } from './helpers/cluster-nodes.ts';
import { redisOrSkip, startRedis, type RedisServer } from './helpers/redis-server.ts';

/** From the SIGKILL to the last task settled: lock expiry + a stalled check + the re-run. */
const RECOVERY_BOUND_MS = 20_000;

type Result = { value: number; pid: number };

/** Streams `n` slowSquare tasks and records every settlement, in order, with its time. */
function collect(td: Tandem, n: number, ms: number, retries: number) {
  const settled: (Settled<Result> & { at: number })[] = [];
  let progress = 0;
  let overshoot = false;
  const done = (async () => {
    const argsList = Array.from({ length: n }, (_, i) => [i, ms]);
    const stream = td.stream<Result>(CLUSTER_TASKS, 'slowSquare', argsList, {
      retries,
      onProgress: (d, total) => {
        progress++;
        if (d > total || progress > total) overshoot = true;
      },
    });
    for await (const r of stream) settled.push({ ...r, at: performance.now() });
  })();
  return { settled, done, progress: () => progress, overshoot: () => overshoot };
}

function expectExactlyOnce(settled: readonly Settled<Result>[], n: number): void {
  const count = new Array<number>(n).fill(0);
  for (const r of settled) count[r.index]!++;
  const wrong = count.flatMap((c, i) => (c === 1 ? [] : [`#${i}: ${c}×`]));
  expect(wrong, 'tasks not settled exactly once').toEqual([]);
  const failed = settled.filter((r) => r.status === 'rejected');
  expect(failed.map((r) => `#${r.index}: ${String((r as { reason: unknown }).reason)}`), 'failed tasks').toEqual([]);
  for (const r of settled) if (r.status === 'fulfilled') expect(r.value.value).toBe(r.index * r.index);
}

describe.skipIf(!redisOrSkip())('cluster faults', () => {
  const servers: RedisServer[] = [];
  const clients: Tandem[] = [];
  let nodes: NodeProcess[] = [];

  afterEach(async () => {
    for (const td of clients.splice(0)) await td.close().catch((e: unknown) => console.warn(`client close: ${(e as Error).message}`));
    await killAllNodes();
    nodes = [];
  });
  afterAll(async () => {
    await killAllNodes();
    for (const s of servers.splice(0)) await s.stop();
  });

  it('a node killed with SIGKILL mid-run: its jobs finish on the other node, every task settles once', async () => {
    const redis = await startRedis();
    servers.push(redis);
    // Two worker threads per node, so each node holds several jobs when one is killed.
    nodes = await startNodes(redis.url, ['victim', 'survivor'], { workers: 2 });
    const [victim, survivor] = nodes as [NodeProcess, NodeProcess];
    const td = await clusterClient(redis.url);
    clients.push(td);

    const n = 300;
    const run = collect(td, n, 40, 3);
    // Kill once the victim has shown it is working (some results from it), with most of the run ahead.
    await until(() => run.settled.filter((r) => r.status === 'fulfilled' && r.value.pid === victim.pid).length >= 10, 30_000, 'the victim to complete 10 tasks');
    const settledBefore = run.settled.length;
    const killedAt = performance.now();
    victim.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    await Promise.race([
      run.done,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`not all settled within ${RECOVERY_BOUND_MS} ms of the kill: ${run.settled.length}/${n}`)), RECOVERY_BOUND_MS + 30_000)),
    ]);
    const recoveryMs = Math.max(...run.settled.map((r) => r.at)) - killedAt;
    console.log(`SIGKILL at ${settledBefore}/${n} settled; all ${n} settled ${(recoveryMs / 1000).toFixed(1)} s later`);

    expect(run.settled).toHaveLength(n);
    expectExactlyOnce(run.settled, n);
    expect(run.progress()).toBe(n);
    expect(run.overshoot()).toBe(false);
    // After the kill, results can only come from the survivor.
    // (3 s: results the victim stored just before dying may still reach the client a moment later.)
    const after = run.settled.filter((r) => r.at > killedAt + 3_000);
    for (const r of after) if (r.status === 'fulfilled') expect(r.value.pid).toBe(survivor.pid);
    expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);
  }, 90_000);

  // Graceful: SIGTERM, Redis writes the AOF out and exits. Hard: SIGKILL, with appendfsync
  // always so every acknowledged write is already on disk. Either way it then starts again on the
  // same port and directory and loads the AOF; clients and nodes reconnect by themselves.
  it.each([
    { how: 'gracefully (SIGTERM, appendfsync everysec)', hard: false, appendfsync: 'everysec' as const },
    { how: 'hard (SIGKILL, appendfsync always)', hard: true, appendfsync: 'always' as const },
  ])('Redis restarted mid-run $how: work resumes and nothing is lost', async ({ hard, appendfsync }) => {
    const redis = await startRedis({ appendfsync });
    servers.push(redis);
    nodes = await startNodes(redis.url, ['steady-a', 'steady-b'], { workers: 2 });
    const td = await clusterClient(redis.url);
    clients.push(td);

    const n = 300;
    const run = collect(td, n, 20, 3);
    await until(() => run.settled.length >= 50, 30_000, '50 tasks to settle');
    const at = run.settled.length;
    await redis.restart({ hard });
    console.log(`Redis restarted (${hard ? 'SIGKILL' : 'SIGTERM'}) at ${at}/${n} settled`);
    await run.done;
    expect(run.settled).toHaveLength(n);
    expectExactlyOnce(run.settled, n);
    expect(run.progress()).toBe(n);
    // The cluster still works for new work after the restart.
    expect(await td.run(CLUSTER_TASKS, 'square', [7])).toBe(49);
    for (const node of nodes) expect(node.process.exitCode, `${node.name} still running`).toBeNull();
    // A Redis outage is expected operation for a node: it reconnects quietly, without ioredis's
    // "Unhandled error event" stack traces on its terminal.
    for (const node of nodes) expect(node.output(), `${node.name}'s output`).not.toContain('Unhandled error event');
  }, 90_000);
});
