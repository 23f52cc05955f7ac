import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskTimeoutError, WorkerCrashedError } from '@tandem/core';
import { datasets, train, type ReplicaFailure, type TrainData, type TrainResult } from '../src/index.ts';
import { subset } from './fixtures/subset.ts';

const FAULTY = new URL('./fixtures/faulty-mlp.ts', import.meta.url);
const TRAIN = 1200;
const BATCH = 100;
const EPOCHS = 2;
const STEPS = TRAIN / BATCH;

const bitsEqual = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('train: a replica that fails mid-epoch', () => {
  let data: TrainData;
  let dir: string;
  let reference: TrainResult;
  let marker = 0;
  const nextMarker = () => join(dir, `marker-${marker++}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-faults-'));
    const mnist = await datasets.mnist();
    data = { train: subset(mnist.train, TRAIN), validation: subset(mnist.test, 300) };
    // The same run with nothing failing (the fault's call count is never reached).
    reference = await train({
      model: FAULTY, config: { fail: { marker: nextMarker(), afterCalls: 1e9, mode: 'exit' } },
      data, epochs: EPOCHS, batchSize: BATCH, replicas: 2, seed: 5, balance: 'equal',
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (mode: 'exit' | 'throw' | 'hang', onReplicaFailure: 'replace' | 'drop', extra: { stepTimeoutMs?: number } = {}) => {
    const failures: ReplicaFailure[] = [];
    const identical: boolean[] = [];
    const steps: number[] = [];
    const result = await train({
      model: FAULTY, config: { fail: { marker: nextMarker(), afterCalls: 5, mode } },
      data, epochs: EPOCHS, batchSize: BATCH, replicas: 2, seed: 5, balance: 'equal', onReplicaFailure, ...extra,
      onFailure: (f) => failures.push(f),
      onStep: (s) => steps.push(s.globalStep),
      onEpoch: async (_r, context) => {
        const weights = await context.replicaWeights();
        identical.push(weights.every((w) => bitsEqual(w, weights[0]!)));
      },
    });
    return { result, failures, identical, steps };
  };

  const expectNothingLost = (result: TrainResult, steps: number[]) => {
    // Every step reported once, in order, and every example of every epoch trained exactly once.
    expect(steps).toEqual(Array.from({ length: EPOCHS * STEPS }, (_, i) => i + 1));
    for (const h of result.history) expect(h.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // The same steps on the same examples: the loss curve matches the run without the failure.
    result.history.forEach((h, e) => expect(Math.abs(h.loss - reference.history[e]!.loss) / reference.history[e]!.loss).toBeLessThan(1e-5));
  };

  it('replaces a crashed replica with one in the same state and loses no step', async () => {
    const { result, failures, identical, steps } = await run('exit', 'replace');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ action: 'replaced', epoch: 1, engine: 'wasm' });
    expect(failures[0]!.error).toBeInstanceOf(WorkerCrashedError);
    expect(identical).toEqual([true, true]);
    expect(result.history[1]!.shares.every((s) => s > 0.3)).toBe(true); // both slots trained epoch 2
    expectNothingLost(result, steps);
  });

  it('drops a replica whose step throws and finishes on the others', async () => {
    const { result, failures, identical, steps } = await run('throw', 'drop');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.action).toBe('dropped');
    expect((failures[0]!.error as Error).message).toMatch(/injected replica failure/);
    expect(identical).toEqual([true, true]);
    const dead = failures[0]!.slot;
    expect(result.history[1]!.shares[dead]).toBe(0);
    expectNothingLost(result, steps);
  });

  it('ends a replica hung inside a step (stepTimeoutMs) and replaces it, losing nothing', async () => {
    const { result, failures, identical, steps } = await run('hang', 'replace', { stepTimeoutMs: 2500 }); // healthy steps take ~10 ms
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ action: 'replaced', epoch: 1 });
    expect(failures[0]!.error).toBeInstanceOf(TaskTimeoutError);
    expect((failures[0]!.error as Error).message).toMatch(/made no step in 2500 ms/);
    expect(identical).toEqual([true, true]);
    expectNothingLost(result, steps);
  });

  it('aborts at once even while a replica is stuck inside a step', async () => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    const error = await train({
      model: FAULTY, config: { fail: { marker: nextMarker(), afterCalls: 3, mode: 'hang' } },
      data, epochs: EPOCHS, batchSize: BATCH, replicas: 2, seed: 5, signal: controller.signal,
      // Step 2 done: one replica is about to hang in its third forward pass; the other will wait for it.
      onStep: (s) => { if (s.globalStep === 2) setTimeout(() => controller.abort(reason), 300); },
    }).then(() => undefined, (e: unknown) => e);
    expect(error).toBe(reason);
  });

  it('rejects, with the error, when every replica fails', async () => {
    const error = await train({
      model: FAULTY, config: { fail: { marker: nextMarker(), afterCalls: 2, mode: 'exit' } },
      data, epochs: 1, batchSize: BATCH, replicas: 1, onReplicaFailure: 'drop',
    }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
  });
});
