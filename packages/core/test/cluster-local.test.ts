/**
 * A cluster session with workers of its own: it is a node too, and each call runs on the cluster
 * or here, whichever the measured costs predict is faster — the link measured at join, the task's
 * run time measured as jobs ran. Heavy arguments and light work stay here; heavy work with light
 * arguments goes to the cluster.
 */
import { describe, expect, it } from 'vitest';
import { Tandem, Tensor } from '../src/index.ts';
import { sessionInternals } from '../src/session/internals.ts';
import { taskKernel, WORKERS_DEVICE } from '../src/cluster/router.ts';
import { CLUSTER_TASKS, useCluster } from './helpers/cluster-nodes.ts';
import { redisOrSkip } from './helpers/redis-server.ts';

describe.skipIf(!redisOrSkip())('a cluster session with workers places each call by measured costs', () => {
  const cluster = useCluster({
    names: ['other'],
    client: (redis) => Tandem.create({ cluster: { redis }, workers: 1, backends: [], costCache: false }),
  });

  /** Calls `call` until this session has measured the task's run time (its own node ran some of its jobs). */
  async function untilMeasured(exportName: string, tasks: number, call: () => Promise<unknown>): Promise<void> {
    const costs = sessionInternals(cluster.td).costs;
    const key = taskKernel(CLUSTER_TASKS.href, exportName);
    for (let i = 0; i < 10 && costs.predictKernel(key, WORKERS_DEVICE, tasks) === undefined; i++) await call();
    expect(costs.predictKernel(key, WORKERS_DEVICE, tasks), `${exportName}: run time measured`).toBeDefined();
  }

  it('measures the link when it joins', () => {
    expect(cluster.td.explain()).toMatch(/link \(measured\): [\d.]+ ms round trip, \d+ MB\/s/);
  });

  it('runs a call with 128 MB of arguments and little work here, not through Redis', async () => {
    const argsList = Array.from({ length: 8 }, (_, i) => [Tensor.from(new Float32Array(4 << 20).fill(i + 1), [4 << 20])]);
    await untilMeasured('sumWho', 8, () => cluster.td.runMany(CLUSTER_TASKS, 'sumWho', argsList));
    const results = await cluster.td.runMany<{ sum: number; pid: number }>(CLUSTER_TASKS, 'sumWho', argsList);
    expect(results.map((r) => r.sum)).toEqual(argsList.map((_, i) => (i + 1) * (4 << 20)));
    expect(new Set(results.map((r) => r.pid))).toEqual(new Set([process.pid]));
    expect(cluster.td.explain()).toMatch(/last call sumWho × 8: run on this machine — predicted [\d.]+ ms here vs [\d.]+ ms over the cluster \([\d.]+ ms moving 134\.2 MB\)/);
  }, 120_000);

  it('sends heavy work with small arguments to the cluster, where the other node helps', async () => {
    const argsList = Array.from({ length: 8 }, (_, i) => [i, 40]);
    await untilMeasured('slowSquare', 8, () => cluster.td.runMany(CLUSTER_TASKS, 'slowSquare', argsList));
    const results = await cluster.td.runMany<{ value: number; pid: number }>(CLUSTER_TASKS, 'slowSquare', argsList);
    expect(results.map((r) => r.value)).toEqual(argsList.map(([i]) => i! * i!));
    expect(cluster.td.explain()).toMatch(/last call slowSquare × 8: sent to the cluster — predicted/);
    expect(new Set(results.map((r) => r.pid)).has(cluster.nodes[0]!.pid)).toBe(true);
  }, 120_000);
});
