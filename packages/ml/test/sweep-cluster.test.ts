/**
 * A sweep over a cluster: two real `tandem worker` nodes on a test Redis, a client session with
 * `workers: 0`, and `sweep({ session })` spreading its trials over the nodes as session tasks
 * (`@tandem/ml/remote-trial`), ASHA's rung decisions taken on the client.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskModuleError, type Tandem } from '@tandem/core';
import { datasets, type TrainData } from '../src/index.ts';
import { sweep } from '../src/sweep/index.ts';
import { subset } from './fixtures/subset.ts';
import { clusterClient, killAllNodes, startNodes, type NodeProcess } from '../../core/test/helpers/cluster-nodes.ts';
import { redisOrSkip, startRedis, type RedisServer } from '../../core/test/helpers/redis-server.ts';

const MODEL = new URL('./fixtures/mlp.ts', import.meta.url);
/** The nodes may run the model module and Tandem ML's own training code. */
const ALLOW = [fileURLToPath(new URL('./fixtures/', import.meta.url)), '@tandem/ml'];

describe.skipIf(!redisOrSkip())('sweep over a cluster', () => {
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
    // Spread: two trials at once, and each node takes one job at a time (one worker each).
    expect(new Set(result.trials.map((t) => t.node))).toEqual(new Set(['sweep-a', 'sweep-b']));
  }, 120_000);

  it('stops trials at ASHA rungs on the answer of the client, and trains none past its rung', async () => {
    const result = await sweep({
      model: MODEL, data, trials: 4, scheduler: 'asha', maxEpochs: 3, gracePeriod: 1, reductionFactor: 2, batchSize: 100, seed: 3, session: td!,
      space: { learningRate: { log: [1e-4, 1e-1] }, hidden: [4, 16] },
    });
    expect(result.trials.map((t) => t.id).sort()).toEqual([0, 1, 2, 3]);
    const stopped = result.trials.filter((t) => t.status === 'stopped');
    const completed = result.trials.filter((t) => t.status === 'completed');
    // The first trial to reach rung 1 always continues; with 4 trials and η = 2, some stop.
    expect(completed.length).toBeGreaterThanOrEqual(1);
    expect(stopped.length).toBeGreaterThanOrEqual(1);
    for (const t of stopped) expect([1, 2]).toContain(t.epochs);
    for (const t of completed) expect(t.epochs).toBe(3);
    for (const t of result.trials) expect(t.history.map((h) => h.epoch)).toEqual(Array.from({ length: t.epochs }, (_, i) => i + 1));
    expect(result.totalEpochs).toBe(result.trials.reduce((n, t) => n + t.epochs, 0));
  }, 180_000);

  it('an aborted sweep rejects at once, and its trials stop on the nodes', async () => {
    const controller = new AbortController();
    const started = Date.now();
    // 50,000 epochs (about 8 ms each here): trials that kept running after the abort would hold both nodes for minutes.
    const aborted = sweep({
      model: MODEL, data, trials: 2, scheduler: 'random', maxEpochs: 50_000, batchSize: 100, session: td!, space: { hidden: [8] }, signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('enough')), 1500);
    await expect(aborted).rejects.toThrow('enough');
    expect(Date.now() - started).toBeLessThan(15_000);
    // The nodes are free again: a short sweep needs both of them.
    const after = await sweep({ model: MODEL, data, trials: 2, scheduler: 'random', maxEpochs: 1, batchSize: 100, session: td!, space: { hidden: [8] } });
    expect(after.trials.map((t) => t.status), String(after.trials.map((t) => t.error))).toEqual(['completed', 'completed']);
  }, 60_000);

  it('rejects devices on a cluster session: each trial runs on a node\'s own workers', async () => {
    await expect(sweep({ model: MODEL, data, trials: 1, maxEpochs: 1, session: td!, devices: ['wasm'], space: { hidden: [8] } }))
      .rejects.toMatchObject({ name: 'ArgumentError', argument: 'devices' });
  });

  it('rejects with TaskModuleError when the model lies outside the nodes\' --allow list', async () => {
    const outside = new URL('../../../examples/models/mlp.ts', import.meta.url);
    await expect(sweep({
      model: outside, data, trials: 2, scheduler: 'random', maxEpochs: 1, batchSize: 100, session: td!, space: { hidden: [8] },
    })).rejects.toBeInstanceOf(TaskModuleError);
  }, 60_000);
});
