/**
 * Arguments of train() and sweep() that can only be checked against the file system or the model
 * module: they fail at the call with an ArgumentError naming them, before any step runs.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArgumentError, Tensor } from '@tandem/core';
import { sweep, train, type LabelledSet, type TrainOptions } from '../src/index.ts';

const MLP = new URL('./fixtures/mlp.ts', import.meta.url);
/** A module that exists but exports no createModel. */
const NOT_A_MODEL = new URL('./fixtures/subset.ts', import.meta.url);

function zeros(rows: number): LabelledSet {
  return { x: Tensor.zeros([rows, 784], 'float32'), y: Tensor.zeros([rows], 'int32') };
}

const data = { train: zeros(100), validation: zeros(20) };
const base: TrainOptions = { model: MLP, config: { hidden: 4 }, data, epochs: 1, batchSize: 25, replicas: 1 };
const scratch = mkdtempSync(join(tmpdir(), 'tandem-args-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function argumentOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => expect.unreachable('it resolved'), (error: unknown) => error);
  expect(e).toBeInstanceOf(ArgumentError);
  return (e as ArgumentError).argument;
}

describe('train: checkpoint.directory', () => {
  const file = join(scratch, 'a-file');
  writeFileSync(file, 'not a directory');

  it.each([
    ['is a file', file],
    ['is under a file', join(file, 'checkpoints')],
  ])('%s: ArgumentError at the call, before any step', async (_, directory) => {
    const steps: number[] = [];
    const run = train({ ...base, checkpoint: { directory, everySteps: 1 }, onStep: (s) => void steps.push(s.globalStep) });
    expect(await argumentOf(run)).toBe('checkpoint.directory');
    await expect(run).rejects.toThrow(/checkpoint\.directory: expected a directory \(the path, or a parent of it, is a file\)/);
    expect(steps).toEqual([]);
  });

  it('cannot be written: ArgumentError at the call', async () => {
    // Root ignores permission bits; sysfs refuses a new directory even to root.
    let directory = '/sys/tandem-checkpoints';
    if (process.getuid?.() !== 0) {
      directory = join(scratch, 'read-only');
      rmSync(directory, { recursive: true, force: true });
      mkdirSync(directory);
      chmodSync(directory, 0o500);
    }
    const run = train({ ...base, checkpoint: { directory } });
    expect(await argumentOf(run)).toBe('checkpoint.directory');
    await expect(run).rejects.toThrow(/a directory this process can write to/);
  });
});

describe('a model module without createModel', () => {
  it('train: ArgumentError naming model', async () => {
    const run = train({ ...base, model: NOT_A_MODEL });
    expect(await argumentOf(run)).toBe('model');
    await expect(run).rejects.toThrow(/createModel\(config\).*exports subset/);
  });

  it('sweep: rejects with the same ArgumentError, not a sweep of failed trials', async () => {
    const trials: unknown[] = [];
    const run = sweep({ model: NOT_A_MODEL, data, space: { hidden: [4, 8] }, trials: 3, concurrency: 1, maxEpochs: 1, onTrial: (t) => void trials.push(t) });
    expect(await argumentOf(run)).toBe('model');
    expect(trials).toEqual([]);
  });
});
