/**
 * `table.toTrainData({ features, label })`: a table's columns as what `train()` takes — an
 * [n, features] float32 matrix and int32 class labels — split into training and test rows.
 */
import { ArgumentError } from '../errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { Batch, Schema } from './batch.ts';
import { requireColumns, NUMERIC } from './stages/columns.ts';

export interface TrainDataOptions {
  /** Numeric columns, in the order of the features. */
  readonly features: readonly string[];
  /** The class of each row: a bool column (0/1), an integer column (0 … classes − 1) or a string column (its dictionary codes). */
  readonly label: string;
  /** Share of rows held out as `test`. Default 0.2. */
  readonly testFraction?: number;
  /** Seed of the split. Default 0. */
  readonly seed?: number;
  /** Scale each feature to mean 0, standard deviation 1 (by the training rows' statistics). Default true. */
  readonly standardize?: boolean;
}

/** Labelled rows, as `train()`'s `data.train` / `data.test`. */
export interface LabelledRows {
  readonly x: Tensor<'float32'>;
  readonly y: Tensor<'int32'>;
}

/** What `toTrainData` gives: `train()` takes it as its `data`. */
export interface TrainData {
  readonly train: LabelledRows;
  readonly test: LabelledRows;
  readonly classes: number;
  readonly exampleShape: readonly number[];
  readonly features: readonly string[];
  /** The class names of a string label, in code order. */
  readonly classNames?: readonly string[];
  /** Rows left out because a feature or the label was null. */
  readonly droppedRows: number;
  /** Each feature's mean and standard deviation used to standardize (when it did). */
  readonly scaling?: readonly { readonly mean: number; readonly std: number }[];
}

export function checkTrainDataOptions(schema: Schema, options: unknown): Required<Omit<TrainDataOptions, 'features'>> & { features: string[] } {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', "{ features: ['col', …], label: 'col' }", options);
  const o = options as TrainDataOptions;
  const features = requireColumns(schema, o.features, 'options.features', NUMERIC);
  requireColumns(schema, o.label, 'options.label', ['bool', 'int32', 'uint8', 'float64', 'float32', 'string']);
  const testFraction = o.testFraction ?? 0.2;
  if (typeof testFraction !== 'number' || !(testFraction >= 0 && testFraction < 1)) throw new ArgumentError('options.testFraction', 'a number in [0, 1)', testFraction);
  const seed = o.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('options.seed', 'an integer', seed);
  return { features, label: o.label, testFraction, seed, standardize: o.standardize ?? true };
}

/** Builds the matrices from the table's batches (all of them: the result must fit in memory). */
export async function buildTrainData(batches: AsyncIterable<Batch>, o: ReturnType<typeof checkTrainDataOptions>): Promise<TrainData> {
  const f = o.features.length;
  let xs = new Float32Array(1 << 16);
  let ys = new Int32Array(1 << 14);
  let n = 0;
  let dropped = 0;
  let classNames: readonly string[] | undefined;
  let maxLabel = -1;
  for await (const b of batches) {
    const cols = o.features.map((name) => b.columns.get(name)!);
    const label = b.columns.get(o.label)!;
    if (label.dictionary) classNames = label.dictionary.values;
    while ((n + b.rows) * f > xs.length) xs = grow(xs);
    while (n + b.rows > ys.length) ys = grow(ys);
    for (let r = 0; r < b.rows; r++) {
      if ((label.validity && !label.validity[r]) || cols.some((c) => c.validity && !c.validity[r])) {
        dropped++;
        continue;
      }
      const y = label.values.data[r]!;
      if (!Number.isInteger(y) || y < 0) throw new ArgumentError('options.label', `a column of class numbers 0, 1, 2, … (row ${n + dropped + 1} holds ${y})`, o.label);
      for (let k = 0; k < f; k++) xs[n * f + k] = cols[k]!.values.data[r]!;
      ys[n] = y;
      if (y > maxLabel) maxLabel = y;
      n++;
    }
  }
  const classes = classNames ? classNames.length : Math.max(2, maxLabel + 1);
  // A seeded shuffle (xorshift), so the same seed gives the same split.
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let s = (o.seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const nTest = Math.round(n * o.testFraction);
  const take = (from: number, to: number): LabelledRows => {
    const x = Tensor.zeros([to - from, f], 'float32');
    const y = Tensor.zeros([to - from], 'int32');
    for (let i = from; i < to; i++) {
      const r = order[i]!;
      x.data.set(xs.subarray(r * f, r * f + f), (i - from) * f);
      y.data[i - from] = ys[r]!;
    }
    return { x, y };
  };
  const train = take(nTest, n);
  const test = take(0, nTest);
  let scaling: { mean: number; std: number }[] | undefined;
  if (o.standardize) {
    scaling = [];
    const rows = train.y.size;
    for (let k = 0; k < f; k++) {
      let sum = 0, sq = 0;
      for (let i = 0; i < rows; i++) sum += train.x.data[i * f + k]!;
      const mean = rows > 0 ? sum / rows : 0;
      for (let i = 0; i < rows; i++) sq += (train.x.data[i * f + k]! - mean) ** 2;
      const std = rows > 1 ? Math.sqrt(sq / rows) || 1 : 1;
      scaling.push({ mean, std });
      for (const set of [train, test]) for (let i = 0; i < set.y.size; i++) set.x.data[i * f + k] = (set.x.data[i * f + k]! - mean) / std;
    }
  }
  return {
    train, test, classes, exampleShape: [f], features: o.features, droppedRows: dropped,
    ...(classNames ? { classNames: classNames.slice() } : {}), ...(scaling ? { scaling } : {}),
  };
}

function grow<T extends Float32Array | Int32Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}
