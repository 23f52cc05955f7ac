/**
 * A sweep over a cluster: two real `tandem worker` nodes on a test Redis, a client session with
 * `workers: 0`, and `sweep({ session })` spreading its trials over the nodes.
 *
 * NOT YET RUNNABLE: `sweep` runs each trial as a `train` whose replica is leased from a worker of
 * the session's own pool (sweep.ts: `freeWorkers(session.pool)`, `requestReplicas`), and a cluster
 * client has no workers (`workers: 0`), so sweep rejects with "concurrency: at most 0". Trials
 * must become cluster jobs (one `train` run on a node per trial, results back through Redis)
 * before this can pass. The test is written and kept skipped until then; flip
 * SWEEP_RUNS_ON_CLUSTER when sweep learns it. The todo below keeps it visible in the report.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tandem } from '@tandem/core';
import { datasets, type TrainData } from '../src/index.ts';
import { sweep } from '../src/sweep/index.ts';
import { subset } from './fixtures/subset.ts';
import { clusterClient, killAllNodes, startNodes, type NodeProcess } from '../../core/test/helpers/cluster-nodes.ts';
import { redisOrSkip, startRedis, type RedisServer } from '../../core/test/helpers/redis-server.ts';

const SWEEP_RUNS_ON_CLUSTER = false;
const MODEL = new URL('./fixtures/mlp.ts', import.meta.url);
/** The nodes may run the model module and Tandem ML's own training code. */
const ALLOW = [fileURLToPath(new URL('./fixtures/', import.meta.url)), '@tandem/ml'];

describe.skipIf(!SWEEP_RUNS_ON_CLUSTER || !redisOrSkip())('sweep over a cluster', () => {
  let redis: RedisServer | undefined;
  let nodes: NodeProcess[] = [];
  let td: Tandem | undefined;
  let data: TrainData;

  beforeAll(async () => {
    const mnist = await datasets.mnist();
    data = { train: subset(mnist.train, 500), validation: subset(mnist.test, 200) };
    redis = await startRedis();
    nodes = await startNodes(redis.url, ['sweep-a', 'sweep-b'], { allow: ALLOW, workers: 1 });
    td = await clusterClient(redis.url);
  });

  afterAll(async () => {
    await td?.close().catch(() => undefined);
    await Promise.all(nodes.map((n) => n.stop())).catch(() => undefined);
    await killAllNodes();
    await redis?.stop();
  });

  it('returns every trial, each trained to the end', async () => {
    const trials = 4;
    const ended: number[] = [];
    const result = await sweep({
      model: MODEL, data, trials, scheduler: 'random', maxEpochs: 1, batchSize: 100, seed: 7, session: td!, concurrency: 2,
      space: { learningRate: { log: [1e-3, 1e-2] }, hidden: [8, 16] },
      onTrial: (t) => ended.push(t.id),
    });
    expect(result.trials).toHaveLength(trials);
    expect(result.trials.map((t) => t.id).sort()).toEqual([0, 1, 2, 3]);
    expect(ended.sort()).toEqual([0, 1, 2, 3]);
    for (const t of result.trials) {
      expect(t.status, `trial ${t.id}: ${String(t.error)}`).toBe('completed');
      expect(t.epochs).toBe(1);
      expect(Number.isFinite(t.metric)).toBe(true);
    }
    expect(result.best).toBeDefined();
  }, 120_000);
});

describe('sweep over a cluster (pending)', () => {
  it.todo('sweep({ session: clusterClient }) over 2 nodes returns every trial — needs sweep to run trials as cluster jobs (see the note at the top)');
});
