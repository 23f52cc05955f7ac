/**
 * NaN and Infinity in training: refused up front in the examples (train, validation, test, a
 * pipeline's later epoch); met in a step (a model that computes NaN on one row, a learning rate
 * that overflows the weights), training stops with NonFiniteError, or skips the step with
 * `onNonFinite: 'skip'`, the replicas still bit-identical; in sweep() such a trial fails alone.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError, Tensor } from '@tandem/core';
import { NonFiniteError, pipeline, sweep, train, type LabelledSet, type TrainOptions } from '../src/index.ts';
import { seededRandom } from '../src/datasets/random.ts';

const MLP = new URL('./fixtures/mlp.ts', import.meta.url);
const TRAP = new URL('./fixtures/nonfinite.ts', import.meta.url);
const FEATURES = 784;
const BATCH = 50;
/** A first value no example has (they are in [0, 1)): the trap's row is the only one. */
const TRAP_VALUE = 7;
const TRAP_ROW = 37;

function randomSet(rows: number, seed: number): LabelledSet {
  const random = seededRandom(seed);
  const x = Tensor.zeros([rows, FEATURES], 'float32');
  const y = Tensor.zeros([rows], 'int32');
  for (let i = 0; i < x.data.length; i++) x.data[i] = random();
  for (let i = 0; i < rows; i++) y.data[i] = Math.floor(random() * 10);
  return { x, y };
}

const train200 = randomSet(200, 1);
const validation = randomSet(50, 2);
const trapped = randomSet(200, 1);
trapped.x.data[TRAP_ROW * FEATURES] = TRAP_VALUE;

const base: TrainOptions = { model: MLP, config: { hidden: 8 }, data: { train: train200, validation }, epochs: 1, batchSize: BATCH, replicas: 1, seed: 3 };

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => expect.unreachable('it resolved'), (e: unknown) => e);
}

describe('train: non-finite examples are refused at the call', () => {
  it.each([
    ['data.train.x', (s: LabelledSet) => ({ train: s, validation }), 3, 5, Number.NaN],
    ['data.validation.x', (s: LabelledSet) => ({ train: train200, validation: s }), 1, 0, Number.POSITIVE_INFINITY],
    ['data.test.x', (s: LabelledSet) => ({ train: train200, validation, test: s }), 49, 783, Number.NEGATIVE_INFINITY],
  ] as const)('%s: an ArgumentError naming the set, the row and the column', async (argument, place, row, column, value) => {
    const bad = randomSet(50, 9);
    bad.x.data[row * FEATURES + column] = value;
    const e = await rejection(train({ ...base, data: place(bad) }));
    expect(e).toBeInstanceOf(ArgumentError);
    expect((e as ArgumentError).argument).toBe(argument);
    expect((e as Error).message).toContain(`row ${row}, column ${column}`);
  });

  it("a pipeline's epoch is checked as it arrives: NaN in epoch 2 stops training there", async () => {
    await using p = pipeline(train200, { workers: 1, seed: 1 }).map(new URL('./fixtures/nonfinite.ts', import.meta.url), 'nanFromEpoch2');
    const epochs: number[] = [];
    const e = await rejection(train({ ...base, data: { train: p, validation }, epochs: 2, onEpoch: (r) => void epochs.push(r.epoch) }));
    expect(e).toBeInstanceOf(ArgumentError);
    expect((e as ArgumentError).argument).toBe('data.train.x');
    expect((e as Error).message).toContain("row 0, column 1 of the pipeline's epoch 2");
    expect(epochs).toEqual([1]);
  });

  it("rejects an onNonFinite that is not 'error' or 'skip'", async () => {
    const e = await rejection(train({ ...base, onNonFinite: 'ignore' as never }));
    expect((e as ArgumentError).argument).toBe('onNonFinite');
  });
});

describe('train: a step that is not finite', () => {
  it('stops training with NonFiniteError naming the epoch, the step and its batch', async () => {
    const e = await rejection(train({ ...base, model: TRAP, config: { hidden: 8, trap: TRAP_VALUE }, data: { train: trapped, validation }, replicas: 2 }));
    expect(e).toBeInstanceOf(NonFiniteError);
    const n = e as NonFiniteError;
    expect(n.code).toBe('ERR_TANDEM_NON_FINITE');
    expect(n.epoch).toBe(1);
    expect(n.step).toBeGreaterThanOrEqual(1);
    expect(n.step).toBeLessThanOrEqual(200 / BATCH);
    expect(n.globalStep).toBe(n.step);
    // tfjs clips the NaN probability into [ε, 1 − ε], so the loss looks finite: only the gradient shows it.
    expect(n.kind).toBe('gradient');
    expect(n.rows).toHaveLength(BATCH);
    expect(n.rows).toContain(TRAP_ROW);
    expect(n.message).toMatch(new RegExp(`epoch 1, step ${n.step}\\b.*gradient is not finite`));
  });

  it('found only in a step: a learning rate that overflows the weights stops training too', async () => {
    const e = await rejection(train({ ...base, epochs: 2, optimizer: { type: 'sgd', learningRate: 1e36 } }));
    expect(e).toBeInstanceOf(NonFiniteError);
    expect((e as NonFiniteError).epoch).toBe(1);
    expect(['loss', 'gradient', 'update']).toContain((e as NonFiniteError).kind);
  });

  it("onNonFinite 'skip': skips exactly the trapped steps, keeps the weights finite and the replicas bit-identical", async () => {
    const identical: boolean[] = [];
    const run = await train({
      ...base, model: TRAP, config: { hidden: 8, trap: TRAP_VALUE }, data: { train: trapped, validation }, replicas: 2, epochs: 2,
      optimizer: { type: 'adam', learningRate: 1e-2 }, onNonFinite: 'skip',
      onEpoch: async (_, context) => {
        const [a, b] = await context.replicaWeights();
        identical.push(Buffer.from(a!.buffer, a!.byteOffset, a!.byteLength).equals(Buffer.from(b!.buffer, b!.byteOffset, b!.byteLength)));
      },
    });
    // One batch an epoch holds the trap row: that step, and only it, is skipped.
    expect(run.skippedSteps.map((s) => s.epoch)).toEqual([1, 2]);
    for (const s of run.skippedSteps) {
      expect(s.kind).toBe('gradient');
      expect(s.rows).toContain(TRAP_ROW);
      expect(s.globalStep).toBe((s.epoch - 1) * 4 + s.step);
    }
    expect(identical).toEqual([true, true]);
    for (const w of run.weights) expect(w.every(Number.isFinite)).toBe(true);
    // The epoch loss is over the steps trained.
    for (const r of run.history) expect(Number.isFinite(r.loss)).toBe(true);
    expect(run.history.every((r) => r.shares.reduce((a, b) => a + b, 0) === (200 - BATCH) / 200)).toBe(true);
  });
});

describe('sweep: a trial that goes non-finite', () => {
  it('fails alone, with its NonFiniteError; the other trial completes', async () => {
    const result = await sweep({
      model: MLP, data: { train: train200, validation }, space: { learningRate: [1e-3, 1e36] }, optimizer: 'sgd',
      trials: 2, scheduler: 'random', maxEpochs: 1, concurrency: 1, batchSize: BATCH, seed: 1, config: { hidden: 8 },
    });
    const byRate = new Map(result.trials.map((t) => [t.config.learningRate, t]));
    expect(byRate.get(1e-3)?.status).toBe('completed');
    expect(byRate.get(1e36)?.status).toBe('failed');
    expect(byRate.get(1e36)?.error).toBeInstanceOf(NonFiniteError);
    expect(result.best?.config.learningRate).toBe(1e-3);
  });
});
