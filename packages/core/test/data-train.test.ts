/** toTrainData: shapes, split, standardization, string labels, null rows. */
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tandem/backends';
import { Tandem } from '../src/index.ts';
import type { Table } from '../src/data/index.ts';
import { dataTasks, FLIGHTS_3M, arrowTable } from './data-helpers.ts';

let td: Tandem;
beforeAll(async () => {
  td = await Tandem.create({ workers: 2, backends: ['cpu'], costCache: false });
});
afterAll(async () => {
  await td?.close();
});

/** n rows: a = i, b = 10·i (b null where i % 10 === 3), y = i % 3. */
async function numbers(n: number): Promise<Table> {
  return td.fromArrow(arrowTable({
    a: Float64Array.from({ length: n }, (_, i) => i),
    b: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => (i % 10 === 3 ? null : 10 * i)), new arrow.Float64()),
    y: Int32Array.from({ length: n }, (_, i) => i % 3),
  }));
}

describe('toTrainData', () => {
  it('gives [n, features] float32 and int32 labels, split by testFraction, null rows dropped and counted', async () => {
    const data = await (await numbers(1000)).toTrainData({ features: ['a', 'b'], label: 'y', standardize: false, testFraction: 0.25, seed: 7 });
    expect(data.droppedRows).toBe(100);
    expect(data.test.x.shape).toEqual([225, 2]);
    expect(data.train.x.shape).toEqual([675, 2]);
    expect(data.train.y.shape).toEqual([675]);
    expect(data.classes).toBe(3);
    expect(data.exampleShape).toEqual([2]);
    expect(data.scaling).toBeUndefined();
    // Every kept row appears once across train and test, with its own label.
    const seen = new Set<number>();
    for (const set of [data.train, data.test]) for (let r = 0; r < set.y.size; r++) {
      const a = set.x.data[2 * r]!;
      expect(set.x.data[2 * r + 1]).toBe(10 * a);
      expect(set.y.data[r]).toBe(a % 3);
      seen.add(a);
    }
    expect(seen.size).toBe(900);
    expect(seen.has(3)).toBe(false);
    // The same seed splits the same way; another seed differently.
    const again = await (await numbers(1000)).toTrainData({ features: ['a', 'b'], label: 'y', standardize: false, testFraction: 0.25, seed: 7 });
    expect(Array.from(again.test.x.data)).toEqual(Array.from(data.test.x.data));
    const other = await (await numbers(1000)).toTrainData({ features: ['a', 'b'], label: 'y', standardize: false, testFraction: 0.25, seed: 8 });
    expect(Array.from(other.test.x.data)).not.toEqual(Array.from(data.test.x.data));
  });

  it("standardizes each feature by the training rows' mean and standard deviation", async () => {
    const data = await (await numbers(1000)).toTrainData({ features: ['a', 'b'], label: 'y' });
    expect(data.scaling).toHaveLength(2);
    for (let k = 0; k < 2; k++) {
      let sum = 0, sq = 0;
      const n = data.train.y.size;
      for (let r = 0; r < n; r++) sum += data.train.x.data[2 * r + k]!;
      for (let r = 0; r < n; r++) sq += (data.train.x.data[2 * r + k]! - sum / n) ** 2;
      expect(Math.abs(sum / n)).toBeLessThan(1e-5);
      expect(Math.sqrt(sq / n)).toBeCloseTo(1, 4);
    }
    // Test rows use the training rows' scaling.
    const { mean, std } = data.scaling![0]!;
    const raw = Math.round(data.test.x.data[0]! * std + mean);
    expect(data.test.x.data[0]).toBeCloseTo((raw - mean) / std, 5);
  });

  it('string labels become class numbers with classNames; a non-integer label is an error', async () => {
    const t = (await td.read(FLIGHTS_3M)).limit(5000).mapBatches(dataTasks, 'lateness', { output: { label: 'string' } });
    const data = await t.toTrainData({ features: ['distance', 'delay'], label: 'label' });
    expect(data.classNames).toEqual(['late', 'on time'].filter((c) => data.classNames!.includes(c)));
    expect(data.classNames!.length).toBe(2);
    expect(data.classes).toBe(2);
    const rows = await t.toRows();
    const late = rows.filter((r) => r.label === 'late').length;
    const code = data.classNames!.indexOf('late');
    let counted = 0;
    for (const set of [data.train, data.test]) for (const y of set.y.data) if (y === code) counted++;
    expect(counted).toBe(late);
    const halves = await td.fromArrow(arrowTable({ a: Float64Array.from([1, 2]), y: Float64Array.from([1, 0.5]) }));
    await expect(halves.toTrainData({ features: ['a'], label: 'y' })).rejects.toMatchObject({ argument: 'options.label', message: expect.stringMatching(/row 2 holds 0.5/) });
  });
});
