/**
 * A cluster on one machine: Debian's redis-server on a free loopback port, two real
 * `tandem worker` processes (one worker thread each), and a client session with `workers: 0`
 * that runs nothing itself. Tasks name their module by file URL: the nodes have the same file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, type Tandem } from '../src/index.ts';
import { CLUSTER_TASKS, clusterClient, killAllNodes, startNodes, type NodeProcess } from './helpers/cluster-nodes.ts';
import { redisOrSkip, startRedis, type RedisServer } from './helpers/redis-server.ts';

describe.skipIf(!redisOrSkip())('cluster: 2 nodes and a client', () => {
  let redis: RedisServer | undefined;
  let nodes: NodeProcess[] = [];
  let td: Tandem | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    nodes = await startNodes(redis.url, ['node-a', 'node-b']);
    td = await clusterClient(redis.url);
  });

  afterAll(async () => {
    // Each step runs whatever the one before did: a client that fails to close still leaves no node or server behind.
    await td?.close().catch((e: unknown) => console.warn(`client close: ${(e as Error).message}`));
    await Promise.all(nodes.map((n) => n.stop())).catch(() => undefined);
    await killAllNodes();
    await redis?.stop();
  });

  it('runs 1,000 tasks with exact results, and both nodes run some of them', async () => {
    const n = 1_000;
    let progress = 0;
    const results = await td!.runMany<{ value: number; pid: number }>(CLUSTER_TASKS, 'squareWho', Array.from({ length: n }, (_, i) => [i]), {
      onProgress: (done, total) => {
        progress++;
        expect(total).toBe(n);
        expect(done).toBe(progress);
      },
    });
    expect(results.map((r) => r.value)).toEqual(Array.from({ length: n }, (_, i) => i * i));
    expect(progress).toBe(n);
    const byNode = new Map<number, number>();
    for (const r of results) byNode.set(r.pid, (byNode.get(r.pid) ?? 0) + 1);
    // Every task ran in a node process, none in the client's, and each node took a share.
    expect([...byNode.keys()].sort()).toEqual(nodes.map((node) => node.pid).sort());
    for (const [pid, count] of byNode) expect(count, `tasks run by pid ${pid}`).toBeGreaterThan(0);
    console.log(`1,000 tasks by node: ${[...byNode].map(([pid, c]) => `${nodes.find((x) => x.pid === pid)?.name}=${c}`).join(', ')}`);
  });

  it('runMany of many identical tasks: each settles (jobs of equal content in one call are still distinct jobs)', async () => {
    // 1,000 identical argument lists split into several jobs with byte-identical data: if job ids
    // came from content and call alone, BullMQ would keep one of them and the rest would never settle.
    const results = await Promise.race([
      td!.runMany<number>(CLUSTER_TASKS, 'square', Array.from({ length: 1_000 }, () => [3])),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('runMany of identical tasks did not settle within 20 s')), 20_000)),
    ]);
    expect(results).toEqual(new Array(1_000).fill(9));
  });

  it('run and stream go through the cluster too', async () => {
    expect(await td!.run(CLUSTER_TASKS, 'square', [12])).toBe(144);
    const pids = new Set(await Promise.all(Array.from({ length: 20 }, () => td!.run<number>(CLUSTER_TASKS, 'whoAmI'))));
    expect(pids.has(process.pid)).toBe(false);
    const seen: number[] = [];
    for await (const r of td!.stream<number>(CLUSTER_TASKS, 'square', [[1], [2], [3], [4]])) {
      expect(r.status).toBe('fulfilled');
      if (r.status === 'fulfilled') expect(r.value).toBe((r.index + 1) ** 2);
      seen.push(r.index);
    }
    expect(seen.sort()).toEqual([0, 1, 2, 3]);
  });

  it('the session\'s onProgress sees its cluster tasks settle, and stats() lists each node\'s counts', async () => {
    const events: { done: number; total: number }[] = [];
    const stop = td!.onProgress((e) => events.push(e));
    await td!.runMany<number>(CLUSTER_TASKS, 'square', Array.from({ length: 40 }, (_, i) => [i]));
    stop();
    expect(events.length).toBeGreaterThan(0);
    const last = events[events.length - 1]!;
    expect(last.done).toBe(last.total);
    for (let i = 1; i < events.length; i++) expect(events[i]!.done).toBeGreaterThan(events[i - 1]!.done);
    // Nodes publish their stats with each heartbeat (every 5 s); the client looks every 3 s.
    const deadline = Date.now() + 15_000;
    let nodeStats = td!.stats().nodes ?? [];
    while (Date.now() < deadline && !(nodeStats.length === 2 && nodeStats.every((n) => (n.stats?.tasks.completed ?? 0) > 0))) {
      await new Promise((r) => setTimeout(r, 500));
      nodeStats = td!.stats().nodes ?? [];
    }
    expect(nodeStats.map((n) => n.name).sort()).toEqual(['node-a', 'node-b']);
    for (const n of nodeStats) {
      // Both nodes ran part of the 1,000 tasks above; their pools counted them.
      expect(n.stats!.tasks.completed, n.name).toBeGreaterThan(0);
      expect(n.completed, n.name).toBeGreaterThan(0);
      expect(n.stats!.utilisation).toBeGreaterThanOrEqual(0);
    }
    // Its own pool ran nothing (workers: 0 runs nothing itself).
    expect(td!.stats().tasks.completed).toBe(0);
  }, 30_000);

  it('lists the cluster\'s nodes as its devices', () => {
    const devices = td!.devices();
    // The client has no workers of its own: what it lists are the nodes' devices.
    const text = JSON.stringify(devices);
    for (const node of nodes) expect(text).toContain(node.name);
  });

  it('a 64 MB float32 tensor (16M elements) round-trips bit-exact', async () => {
    const n = 16 * 1024 * 1024;
    const t = Tensor.zeros([4096, 4096]);
    const bits = new Uint32Array(t.data.buffer, t.data.byteOffset, n);
    // Random bit patterns (xorshift), the exponent kept below all-ones so that no NaN can be
    // canonicalised on the way; then the values a lossy path would get wrong.
    let x = 0x9e3779b9;
    for (let i = 0; i < n; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      bits[i] = (x & 0x7f800000) === 0x7f800000 ? x & 0xbfffffff : x;
    }
    t.data.set([-0, Infinity, -Infinity, 1e-45, -1e-45, 3.4028234663852886e38, 1.1754943508222875e-38], 0);
    expect(t.data.byteLength).toBe(64 * 1024 * 1024);
    const echoed = await td!.run<Tensor>(CLUSTER_TASKS, 'echoTensor', [t], { timeoutMs: 60_000 });
    expect(echoed).toBeInstanceOf(Tensor);
    expect(echoed.dtype).toBe('float32');
    expect(echoed.shape).toEqual([4096, 4096]);
    const back = new Uint32Array(echoed.data.buffer, echoed.data.byteOffset, n);
    let firstDiff = -1;
    for (let i = 0; i < n; i++) if (back[i] !== bits[i]) { firstDiff = i; break; }
    expect(firstDiff, 'first element whose bits differ').toBe(-1);
    // A tensor argument whose result is a plain number.
    expect(await td!.run(CLUSTER_TASKS, 'sumTensor', [Tensor.from([1, 2, 3, 4.5])])).toBe(10.5);
  }, 120_000);
});
