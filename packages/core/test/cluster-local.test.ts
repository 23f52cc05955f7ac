/**
 * A cluster session with workers of its own: it is a node too, and each call runs on the cluster
 * or here, whichever the measured costs predict is faster — the link measured at join, the task's
 * run time measured as jobs ran. Heavy arguments and light work stay here; heavy work with light
 * arguments goes to the cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tandem, Tensor } from '../src/index.ts';
import { sessionInternals } from '../src/session/internals.ts';
import { taskKernel, WORKERS_DEVICE } from '../src/cluster/router.ts';
import { CLUSTER_TASKS, killAllNodes, startNodes, type NodeProcess } from './helpers/cluster-nodes.ts';
import { redisOrSkip, startRedis, type RedisServer } from './helpers/redis-server.ts';

describe.skipIf(!redisOrSkip())('a cluster session with workers places each call by measured costs', () => {
  let redis: RedisServer | undefined;
  let nodes: NodeProcess[] = [];
  let td: Tandem | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    nodes = await startNodes(redis.url, ['other']);
    td = await Tandem.create({ cluster: { redis: redis.url }, workers: 1, backends: [], costCache: false });
  }, 60_000);

  afterAll(async () => {
    await td?.close().catch(() => undefined);
    await Promise.all(nodes.map((n) => n.stop())).catch(() => undefined);
    await killAllNodes();
    await redis?.stop();
  });

  /** Calls `call` until this session has measured the task's run time (its own node ran some of its jobs). */
  async function untilMeasured(exportName: string, tasks: number, call: () => Promise<unknown>): Promise<void> {
    const costs = sessionInternals(td!).costs;
    const key = taskKernel(CLUSTER_TASKS.href, exportName);
    for (let i = 0; i < 10 && costs.predictKernel(key, WORKERS_DEVICE, tasks) === undefined; i++) await call();
    expect(costs.predictKernel(key, WORKERS_DEVICE, tasks), `${exportName}: run time measured`).toBeDefined();
  }

  it('measures the link when it joins', () => {
    expect(td!.explain()).toMatch(/link \(measured\): [\d.]+ ms round trip, \d+ MB\/s/);
  });

  it('runs a call with 128 MB of arguments and little work here, not through Redis', async () => {
    const argsList = Array.from({ length: 8 }, (_, i) => [Tensor.from(new Float32Array(4 << 20).fill(i + 1), [4 << 20])]);
    await untilMeasured('sumWho', 8, () => td!.runMany(CLUSTER_TASKS, 'sumWho', argsList));
    const results = await td!.runMany<{ sum: number; pid: number }>(CLUSTER_TASKS, 'sumWho', argsList);
    expect(results.map((r) => r.sum)).toEqual(argsList.map((_, i) => (i + 1) * (4 << 20)));
    expect(new Set(results.map((r) => r.pid))).toEqual(new Set([process.pid]));
    expect(td!.explain()).toMatch(/last call sumWho × 8: run on this machine — predicted [\d.]+ ms here vs [\d.]+ ms over the cluster \([\d.]+ ms moving 134\.2 MB\)/);
  }, 120_000);

  it('sends heavy work with small arguments to the cluster, where the other node helps', async () => {
    const argsList = Array.from({ length: 8 }, (_, i) => [i, 40]);
    await untilMeasured('slowSquare', 8, () => td!.runMany(CLUSTER_TASKS, 'slowSquare', argsList));
    const results = await td!.runMany<{ value: number; pid: number }>(CLUSTER_TASKS, 'slowSquare', argsList);
    expect(results.map((r) => r.value)).toEqual(argsList.map(([i]) => i! * i!));
    expect(td!.explain()).toMatch(/last call slowSquare × 8: sent to the cluster — predicted/);
    expect(new Set(results.map((r) => r.pid)).has(nodes[0]!.pid)).toBe(true);
  }, 120_000);
});
