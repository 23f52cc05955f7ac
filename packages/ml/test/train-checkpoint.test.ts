import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '@tandem/core';
import { datasets, directoryIO, train, type StepRecord, type TrainData, type TrainResult } from '../src/index.ts';
import { createModel } from './fixtures/mlp.ts';
import { subset } from './fixtures/subset.ts';

const MODEL = new URL('./fixtures/mlp.ts', import.meta.url);
const TRAIN = 1000;
const BATCH = 100;
const STEPS = TRAIN / BATCH;

const bitsEqual = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

class Interrupt extends Error {}

const run = promisify(execFile);

describe('train: checkpoints, resumeFrom and onStep', () => {
  let data: TrainData;
  let dir: string;
  let whole: TrainResult;
  const steps: StepRecord[] = [];
  // balance 'equal': the same split every step, so a resumed run must give the very same bits.
  const base = { model: MODEL, config: { hidden: 16 }, batchSize: BATCH, replicas: 2, seed: 11, balance: 'equal' as const };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-ckpt-'));
    const mnist = await datasets.mnist();
    data = { train: subset(mnist.train, TRAIN), validation: subset(mnist.test, 200) };
    whole = await train({ ...base, data, epochs: 2, onStep: (s) => steps.push(s) });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a script alive while it watches the steps (no exit with code 13 mid-training)', async () => {
    const script = fileURLToPath(new URL('./fixtures/train-script.ts', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { timeout: 120_000 });
    // 300 examples, 10% held out: 270 in batches of 50 is 6 steps per epoch.
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ steps: 12, epochs: 2 });
  });

  it('stops at the next step when its signal aborts, rejecting with the reason', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const reason = new Error('enough');
    const error = await train({
      ...base, data, epochs: 3, signal: controller.signal,
      onStep: (s) => {
        seen.push(s.globalStep);
        if (s.globalStep === 3) controller.abort(reason);
      },
    }).then(() => undefined, (e: unknown) => e);
    expect(error).toBe(reason);
    // The replicas stop at the barrier after the abort: a step or two more at most, not the 30 of 3 epochs.
    expect(Math.max(...seen)).toBeLessThan(6);
    const already = await train({ ...base, data, epochs: 1, signal: AbortSignal.abort() }).then(() => undefined, (e: unknown) => e);
    expect((already as Error).name).toBe('AbortError');
  });

  it('reports every step in order with its split and loss', () => {
    expect(steps.map((s) => s.globalStep)).toEqual(Array.from({ length: 2 * STEPS }, (_, i) => i + 1));
    expect(steps.map((s) => s.step)).toEqual([...Array.from({ length: STEPS }, (_, i) => i + 1), ...Array.from({ length: STEPS }, (_, i) => i + 1)]);
    for (const s of steps) {
      expect(s.steps).toBe(STEPS);
      expect(s.counts).toEqual([50, 50]);
      expect(Number.isFinite(s.loss) && s.loss > 0).toBe(true);
    }
    // The epoch's loss is the mean of its steps' (equal batches).
    const mean = steps.slice(0, STEPS).reduce((a, s) => a + s.loss, 0) / STEPS;
    expect(mean).toBeCloseTo(whole.history[0]!.loss, 10);
  });

  it('resumes an interrupted run from its last checkpoint and ends bit-identical to the uninterrupted run', async () => {
    const directory = join(dir, 'run');
    const interrupted = await train({
      ...base, data, epochs: 2, checkpoint: { directory, everySteps: 4 },
      onStep: (s) => { if (s.globalStep === 14) throw new Interrupt('stop here'); },
    }).then(() => undefined, (e: unknown) => e);
    expect(interrupted).toBeInstanceOf(Interrupt);
    // Checkpoints at global steps 4, 8, 10 (end of epoch 1) and 12; the two newest are kept.
    expect(readdirSync(directory).filter((f) => f.startsWith('step-')).sort()).toEqual(['step-000000010', 'step-000000012']);
    const resumed = await train({ ...base, data, epochs: 2, resumeFrom: directory });
    expect(resumed.history).toHaveLength(2);
    expect(resumed.history[0]!.loss).toBe(whole.history[0]!.loss);
    resumed.weights.forEach((w, i) => expect(bitsEqual(w, whole.weights[i]!)).toBe(true));
    expect(resumed.history[1]!.loss).toBeCloseTo(whole.history[1]!.loss, 12);
  });

  it('writes checkpoints tf.loadLayersModel can read', async () => {
    const directory = join(dir, 'loadable');
    const result = await train({ ...base, data, epochs: 1, checkpoint: { directory } });
    const latest = readdirSync(directory).filter((f) => f.startsWith('step-'));
    expect(latest).toEqual(['step-000000010']);
    tf.setBackend('cpu');
    const model = await tfl.loadLayersModel(directoryIO(join(directory, latest[0]!)));
    const loaded = model.getWeights().map((w) => w.dataSync() as Float32Array);
    loaded.forEach((w, i) => expect(bitsEqual(w, result.weights[i]!)).toBe(true));
    model.dispose();
  });

  it('round-trips a model through directoryIO', async () => {
    tf.setBackend('cpu');
    const model = createModel({ hidden: 8 });
    await model.save(directoryIO(join(dir, 'plain')));
    const again = await tfl.loadLayersModel(directoryIO(join(dir, 'plain')));
    const input = tf.randomUniform([3, 784]);
    const [a, b] = [model.predict(input) as tf.Tensor, again.predict(input) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([input, a, b]);
  });

  it('rejects a checkpoint of another run and a missing or torn one', async () => {
    const bad = async (patch: Record<string, unknown>) => {
      const error = await train({ ...base, data, epochs: 1, ...patch } as never).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ArgumentError);
      expect((error as ArgumentError).argument).toBe('resumeFrom');
      return error as ArgumentError;
    };
    const directory = join(dir, 'run');
    expect((await bad({ resumeFrom: directory, batchSize: 50 })).message).toMatch(/batchSize/);
    expect((await bad({ resumeFrom: directory, seed: 12 })).message).toMatch(/seed/);
    await bad({ resumeFrom: join(dir, 'nothing-here') });
    // A checkpoint missing a file (a copy cut short): refused, not half-loaded.
    const torn = join(dir, 'torn');
    await cp(directory, torn, { recursive: true });
    const newest = readdirSync(torn).filter((f) => f.startsWith('step-')).sort().at(-1)!;
    rmSync(join(torn, newest, 'optimizer.bin'));
    await bad({ resumeFrom: torn });
  });
});
