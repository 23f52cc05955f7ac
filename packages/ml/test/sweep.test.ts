import { describe, expect, it, beforeAll } from 'vitest';
import { ArgumentError } from '@tandem/core';
import { datasets, type LabelledSet, type TrainData } from '../src/index.ts';
import { formatSweep, sampleSpace, sweep, validateSpace, ashaRungs, type SearchSpace, type TrialResult } from '../src/sweep/index.ts';
import { seededRandom } from '../src/datasets/random.ts';
import { subset } from './fixtures/subset.ts';

const MODEL = new URL('./fixtures/mlp.ts', import.meta.url);


describe('search spaces', () => {
  const space: SearchSpace = {
    learningRate: { log: [1e-4, 1e-2] },
    dropout: { range: [0.1, 0.5] },
    layers: { int: [1, 3] },
    hidden: [16, 32, 64],
    optimizer: ['adam', 'sgd'],
  };

  it('samples inside every dimension and is reproducible by seed', () => {
    const draw = (seed: number) => { const r = seededRandom(seed); return Array.from({ length: 500 }, () => sampleSpace(space, r)); };
    const a = draw(1);
    expect(draw(1)).toEqual(a);
    expect(draw(2)).not.toEqual(a);
    for (const c of a) {
      expect(c.learningRate).toBeGreaterThanOrEqual(1e-4);
      expect(c.learningRate).toBeLessThanOrEqual(1e-2);
      expect(c.dropout).toBeGreaterThanOrEqual(0.1);
      expect(c.dropout).toBeLessThan(0.5);
      expect([1, 2, 3]).toContain(c.layers);
      expect([16, 32, 64]).toContain(c.hidden);
      expect(['adam', 'sgd']).toContain(c.optimizer);
    }
    // Every choice and integer shows up; log-uniform puts about half the draws below the geometric mean 1e-3.
    expect(new Set(a.map((c) => c.layers)).size).toBe(3);
    expect(new Set(a.map((c) => c.hidden)).size).toBe(3);
    const below = a.filter((c) => (c.learningRate as number) < 1e-3).length / a.length;
    expect(below).toBeGreaterThan(0.4);
    expect(below).toBeLessThan(0.6);
  });

  it('rejects malformed spaces with an ArgumentError naming the dimension', () => {
    const bad = (s: unknown, argument: string) => {
      let error: unknown;
      try { validateSpace(s); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(ArgumentError);
      expect((error as ArgumentError).argument).toBe(argument);
    };
    bad(undefined, 'space');
    bad([1, 2], 'space');
    bad({}, 'space');
    bad({ hidden: [] }, 'space.hidden');
    bad({ hidden: [1, {}] }, 'space.hidden');
    bad({ lr: { log: [0, 1] } }, 'space.lr');
    bad({ lr: { log: [1e-2, 1e-4] } }, 'space.lr');
    bad({ p: { range: [1, 1] } }, 'space.p');
    bad({ p: { range: [0, Infinity] } }, 'space.p');
    bad({ p: { range: [0] } }, 'space.p');
    bad({ n: { int: [1.5, 3] } }, 'space.n');
    bad({ n: { int: [1, 3], log: [1, 2] } }, 'space.n');
    bad({ n: 5 }, 'space.n');
    bad({ n: { uniform: [0, 1] } }, 'space.n');
    expect(() => validateSpace({ lr: { log: [1e-4, 1e-2] }, h: [1], n: { int: [2, 2] } })).not.toThrow();
  });

  it('places ASHA rungs geometrically below maxEpochs', () => {
    expect(ashaRungs(1, 2, 4)).toEqual([1, 2]);
    expect(ashaRungs(1, 3, 9)).toEqual([1, 3]);
    expect(ashaRungs(2, 2, 16)).toEqual([2, 4, 8]);
    expect(ashaRungs(4, 2, 4)).toEqual([]);
  });
});

describe('sweep (real training on an MNIST subset)', () => {
  let data: TrainData;

  beforeAll(async () => {
    const mnist = await datasets.mnist();
    data = { train: subset(mnist.train, 1000), validation: subset(mnist.test, 500) };
  });

  it('runs ASHA: stops weak trials early, sorts by valAccuracy, best first', async () => {
    const ended: number[] = [];
    const result = await sweep({
      model: MODEL, data, trials: 6, scheduler: 'asha', metric: 'valAccuracy',
      maxEpochs: 4, gracePeriod: 1, reductionFactor: 2, batchSize: 100, seed: 3, concurrency: 2,
      space: { learningRate: { log: [1e-4, 3e-2] }, hidden: [8, 16, 32] },
      onTrial: (t) => ended.push(t.id),
    });
    console.log(`ASHA sweep: ${result.seconds.toFixed(1)} s, ${result.totalEpochs} epochs\n${formatSweep(result)}`);
    expect(result.trials).toHaveLength(6);
    expect(ended.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(result.trials.every((t) => t.status !== 'failed')).toBe(true);
    const stopped = result.trials.filter((t) => t.status === 'stopped');
    expect(stopped.length).toBeGreaterThan(0);
    expect(result.totalEpochs).toBeLessThan(6 * 4);
    for (const t of stopped) expect([1, 2]).toContain(t.epochs); // stopped at a rung
    for (const t of result.trials.filter((t) => t.status === 'completed')) expect(t.epochs).toBe(4);
    for (const t of result.trials) {
      expect(t.history).toHaveLength(t.epochs);
      expect(t.metric).toBe(t.history[t.epochs - 1]!.valAccuracy);
    }
    for (let i = 1; i < result.trials.length; i++) expect(result.trials[i - 1]!.metric).toBeGreaterThanOrEqual(result.trials[i]!.metric);
    expect(result.best).toEqual({ id: result.trials[0]!.id, config: result.trials[0]!.config, metric: result.trials[0]!.metric });
    expect(result.best!.metric).toBeGreaterThan(0.6);
  });

  it('reports a failing trial as failed and completes the others', async () => {
    const space: SearchSpace = { hidden: [-1, 16] }; // units -1: createModel throws in the replica
    const seed = 5;
    const r = seededRandom(seed);
    const planned = Array.from({ length: 4 }, () => sampleSpace(space, r).hidden);
    expect(planned).toContain(-1);
    expect(planned).toContain(16);
    const result = await sweep({ model: MODEL, data, trials: 4, scheduler: 'random', maxEpochs: 1, batchSize: 100, seed, concurrency: 2, space });
    for (const t of result.trials) {
      if (t.config.hidden === -1) {
        expect(t.status).toBe('failed');
        expect(String(t.error)).toMatch(/units/);
        expect(t.metric).toBeNaN();
        expect(t.epochs).toBe(0);
      } else {
        expect(t.status).toBe('completed');
        expect(t.epochs).toBe(1);
      }
    }
    const firstFailed = result.trials.findIndex((t) => t.status === 'failed');
    expect(result.trials.slice(firstFailed).every((t) => t.status === 'failed')).toBe(true); // failed last
    expect(result.best?.config.hidden).toBe(16);
  });

  it('ranks by loss (minimised), feeding optimizer and batchSize from the space to train', async () => {
    const result = await sweep({
      model: MODEL, data, trials: 3, scheduler: 'random', metric: 'loss', maxEpochs: 1, seed: 1, concurrency: 2,
      space: { optimizer: ['sgd', 'adam'], batchSize: [50, 200], learningRate: { log: [1e-3, 1e-2] }, hidden: [8] },
    });
    expect(result.trials.every((t) => t.status === 'completed')).toBe(true);
    for (let i = 1; i < result.trials.length; i++) expect(result.trials[i - 1]!.metric).toBeLessThanOrEqual(result.trials[i]!.metric);
    for (const t of result.trials) expect(t.metric).toBe(t.history[0]!.loss);
    expect(result.best!.metric).toBe(result.trials[0]!.metric);
  });

  it('stops every trial and rejects when its signal aborts', async () => {
    const controller = new AbortController();
    const ended: TrialResult[] = [];
    // Once the trials are under way (a trigger, not a timing assertion: each trial has 1,000 epochs
    // to go, minutes of work, so none can have finished however fast the machine).
    setTimeout(() => controller.abort(new Error('sweep stopped')), 1000);
    const error = await sweep({
      model: MODEL, data, trials: 6, scheduler: 'random', maxEpochs: 1000, seed: 3, concurrency: 2, space: { hidden: [8] },
      signal: controller.signal, onTrial: (t) => ended.push(t),
    }).then(() => undefined, (e: unknown) => e);
    expect(error).toBe(controller.signal.reason);
    expect(ended).toEqual([]); // none had finished
  }, 60_000);

  it('runs one trial at a time on each device slot', async () => {
    const result = await sweep({
      model: MODEL, data, trials: 4, scheduler: 'random', maxEpochs: 1, seed: 2, devices: ['wasm', 'cpu'],
      space: { hidden: [8, 16] },
    });
    expect(result.trials.every((t) => t.status === 'completed')).toBe(true);
    expect(new Set(result.trials.map((t) => t.device))).toEqual(new Set(['wasm', 'cpu']));
  });

  it('rejects bad options with ArgumentErrors', async () => {
    const base = { model: MODEL, data, space: { hidden: [16] } };
    const bad = async (patch: Record<string, unknown>, argument: string) => {
      const error = await sweep({ ...base, ...patch } as never).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ArgumentError);
      expect((error as ArgumentError).argument).toBe(argument);
    };
    await bad({ model: undefined }, 'model');
    await bad({ space: { lr: { log: [-1, 1] } } }, 'space.lr');
    await bad({ trials: 0 }, 'trials');
    await bad({ scheduler: 'hyperband' }, 'scheduler');
    await bad({ metric: 'accuracy' }, 'metric');
    await bad({ reductionFactor: 1 }, 'reductionFactor');
    await bad({ gracePeriod: 0 }, 'gracePeriod');
    await bad({ maxEpochs: 2.5 }, 'maxEpochs');
    await bad({ concurrency: 0 }, 'concurrency');
    await bad({ devices: ['tpu'] }, 'devices');
    await bad({ devices: 2 }, 'devices');
    await bad({ backend: 'gpu' }, 'backend');
    await bad({ optimizer: { type: 'adamw' } }, 'optimizer');
  });
});
