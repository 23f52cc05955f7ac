import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { datasets } from '../src/index.ts';

const hash = (x: Float32Array, i: number) => createHash('sha1').update(x.subarray(i * 784, (i + 1) * 784)).digest('hex');

describe('datasets.mnist', () => {
  it('loads the digits that ship with the mnist package, split without overlap', async () => {
    const data = await datasets.mnist();
    const n = data.train.y.size + data.test.y.size;
    expect(n).toBeGreaterThan(9_900);
    expect(n).toBeLessThanOrEqual(10_000);
    expect(data.train.x.shape).toEqual([data.train.y.size, 784]);
    expect(data.exampleShape).toEqual([28, 28]);
    expect(data.test.y.size / n).toBeCloseTo(0.2, 2);
    const trainImages = new Set(Array.from({ length: data.train.y.size }, (_, i) => hash(data.train.x.data, i)));
    for (let i = 0; i < data.test.y.size; i++) expect(trainImages.has(hash(data.test.x.data, i))).toBe(false);
    let min = Infinity;
    let max = -Infinity;
    for (const v of data.train.x.data) [min, max] = [Math.min(min, v), Math.max(max, v)];
    expect([min, max]).toEqual([0, expect.closeTo(1, 2)]);
  });

  it('is stratified: every digit is held out in the same proportion', async () => {
    const data = await datasets.mnist({ testFraction: 0.25 });
    const count = (y: Int32Array) => y.reduce((c, d) => (c[d]!++, c), new Array<number>(10).fill(0));
    const train = count(data.train.y.data);
    const test = count(data.test.y.data);
    for (let d = 0; d < 10; d++) expect(test[d]! / (train[d]! + test[d]!)).toBeCloseTo(0.25, 2);
  });

  it('is the same for the same seed and different for another', async () => {
    const [a, b, c] = await Promise.all([datasets.mnist({ seed: 3 }), datasets.mnist({ seed: 3 }), datasets.mnist({ seed: 4 })]);
    expect(a.test.y.data).toEqual(b.test.y.data);
    expect(a.train.x.data.subarray(0, 784 * 5)).toEqual(b.train.x.data.subarray(0, 784 * 5));
    expect(Buffer.from(a.test.y.data.buffer).equals(Buffer.from(c.test.y.data.buffer))).toBe(false);
  });

  it('standardises with the training set statistics', async () => {
    const data = await datasets.mnist({ standardize: true });
    let sum = 0;
    for (const v of data.train.x.data) sum += v;
    expect(sum / data.train.x.size).toBeCloseTo(0, 4);
  });

  it('rejects bad options, naming them', async () => {
    await expect(datasets.mnist({ testFraction: 1 })).rejects.toThrow(/testFraction: expected a number in \[0, 1\)/);
    await expect(datasets.mnist({ seed: 1.5 })).rejects.toThrow(/seed: expected an integer/);
  });
});
