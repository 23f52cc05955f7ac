/**
 * Training checkpoints: the model (through {@link directoryIO}, so `tf.loadLayersModel` reads it),
 * the optimizer's state and where training stood, in `<directory>/step-<n>/`. `latest.json` names
 * the newest complete one and is replaced atomically after it is written, so a crash mid-save
 * leaves the previous checkpoint in force. The two newest are kept.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { ArgumentError } from '@tandem/core';
import { directoryIO, writeAtomic } from './directory-io.ts';
import type { NonFiniteStep } from './errors.ts';
import type { EpochRecord } from './records.ts';
import type { OptimizerName } from './types.ts';

const VERSION = 1;
const LATEST = 'latest.json';
const KEEP = 2;

/** Where training stood when a checkpoint was taken. */
export interface Progress {
  /** The epoch in progress (1-based) and the next step of it to run. */
  epoch: number;
  step: number;
  globalStep: number;
  batchSize: number;
  trainCount: number;
  seed: number;
  optimizer: OptimizerName;
  history: EpochRecord[];
  /** The epoch in progress so far: loss sum and examples per replica slot. */
  partial: { lossSum: number; processed: number[] };
  /** Steps skipped as not finite so far (absent in checkpoints of earlier versions). */
  skippedSteps?: NonFiniteStep[];
}

export interface Checkpoint {
  progress: Progress;
  /** Every weight, flattened in getWeights() order. */
  weights: Float32Array;
  optimizerStep: number;
  optimizerSlots: Float32Array[];
}

const name = (globalStep: number) => `step-${String(globalStep).padStart(9, '0')}`;

/**
 * Makes sure checkpoints can be written to `directory` (creating it), so that a bad one fails at
 * the call and not at the first checkpoint, steps later: a probe file is written and removed,
 * since permission bits alone don't tell (root, read-only file systems).
 */
export async function checkCheckpointDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true });
    const probe = join(directory, `.tandem-probe-${process.pid}-${Date.now()}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const expected = code === 'ENOTDIR' || code === 'EEXIST'
      ? 'a directory (the path, or a parent of it, is a file)'
      : `a directory this process can write to (${code ?? (error as Error).message})`;
    throw new ArgumentError('checkpoint.directory', expected, directory);
  }
}

/** Writes a checkpoint and makes it the latest. */
export async function saveCheckpoint(directory: string, artifacts: tf.io.ModelArtifacts, checkpoint: Checkpoint): Promise<string> {
  const dir = join(directory, name(checkpoint.progress.globalStep));
  await mkdir(dir, { recursive: true });
  await directoryIO(dir).save!(artifacts);
  const slots = checkpoint.optimizerSlots;
  const bytes = new Uint8Array(slots.reduce((n, s) => n + s.byteLength, 0));
  let at = 0;
  for (const s of slots) (bytes.set(new Uint8Array(s.buffer, s.byteOffset, s.byteLength), at), (at += s.byteLength));
  await writeAtomic(join(dir, 'optimizer.bin'), bytes);
  const meta = { version: VERSION, progress: checkpoint.progress, optimizerStep: checkpoint.optimizerStep, slotLength: slots[0]?.length ?? 0, slots: slots.length };
  await writeAtomic(join(dir, 'progress.json'), JSON.stringify(meta));
  await writeAtomic(join(directory, LATEST), JSON.stringify({ version: VERSION, checkpoint: name(checkpoint.progress.globalStep) }));
  const old = (await readdir(directory)).filter((f) => /^step-\d+$/.test(f)).sort().slice(0, -KEEP);
  await Promise.all(old.map((f) => rm(join(directory, f), { recursive: true, force: true })));
  return dir;
}

/** Reads the latest checkpoint in `directory`; an ArgumentError (argument `resumeFrom`) says what is wrong. */
export async function loadCheckpoint(directory: string): Promise<Checkpoint> {
  const fail = (expected: string, got: unknown) => new ArgumentError('resumeFrom', expected, got);
  let latest: { version?: number; checkpoint?: string };
  try {
    latest = JSON.parse(await readFile(join(directory, LATEST), 'utf8'));
  } catch (error) {
    throw fail(`a checkpoint directory written by train({ checkpoint }) (with ${LATEST})`, `${directory}: ${(error as Error).message}`);
  }
  if (latest.version !== VERSION || typeof latest.checkpoint !== 'string') throw fail(`a checkpoint of version ${VERSION}`, latest);
  const dir = join(directory, latest.checkpoint);
  try {
    const meta = JSON.parse(await readFile(join(dir, 'progress.json'), 'utf8')) as {
      version: number; progress: Progress; optimizerStep: number; slotLength: number; slots: number;
    };
    const artifacts = await directoryIO(dir).load!();
    const data = artifacts.weightData;
    const weightBytes = data === undefined ? new ArrayBuffer(0) : Array.isArray(data) ? data[0]! : data;
    if ((artifacts.weightSpecs ?? []).some((s) => s.dtype !== 'float32')) throw new Error('only float32 weights can be resumed');
    const optimizer = await readFile(join(dir, 'optimizer.bin'));
    const slots = Array.from({ length: meta.slots }, (_, k) =>
      new Float32Array(optimizer.buffer.slice(optimizer.byteOffset + k * meta.slotLength * 4, optimizer.byteOffset + (k + 1) * meta.slotLength * 4)));
    return { progress: meta.progress, weights: new Float32Array(weightBytes.slice(0)), optimizerStep: meta.optimizerStep, optimizerSlots: slots };
  } catch (error) {
    if (error instanceof ArgumentError) throw error;
    throw fail('a complete, readable checkpoint', `${dir}: ${(error as Error).message}`);
  }
}
