import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, Tandem, Tensor } from '../src/index.ts';
import { tasks, workerKinds } from './helpers.ts';

describe('Tensor', () => {
  it('lives on shared memory with the dtype and shape asked for', () => {
    const t = Tensor.zeros([2, 3], 'int32');
    expect(t.shared).toBe(true);
    expect(t.data).toBeInstanceOf(Int32Array);
    expect(t.size).toBe(6);
    expect(t.shape).toEqual([2, 3]);
    expect(Tensor.from([1, 2, 3]).data).toEqual(new Float32Array([1, 2, 3]));
  });

  it('rejects bad shapes, dtypes and sizes with errors naming the argument', () => {
    expect(() => Tensor.zeros([2, -1])).toThrow(/shape\[1\]: expected a non-negative integer; got -1/);
    expect(() => Tensor.zeros([1.5])).toThrow(ArgumentError);
    expect(() => Tensor.zeros([2], 'complex64' as never)).toThrow(/dtype: expected one of float32/);
    expect(() => Tensor.zeros([2 ** 30, 4])).toThrow(/shape: expected at most \d+ bytes/);
    expect(() => Tensor.from([1, 2, 3], [2, 2])).toThrow(/values: expected 4 elements/);
  });
});

describe.each(workerKinds)('tensors in %s workers', (workerKind) => {
  let td: Tandem;
  beforeAll(async () => {
    td = await Tandem.create({ backends: [], workers: 2, workerKind });
  });
  afterAll(() => td.close());

  it("sees the worker's writes once the task resolves", async () => {
    const t = Tensor.zeros([1000]);
    const nested = Tensor.zeros([3], 'uint8');
    expect(await td.run(tasks, 'fill', [t, 3.5])).toBe(1000);
    expect(t.data.every((v) => v === 3.5)).toBe(true);
    await td.run(tasks, 'fill', [nested, 9]);
    expect([...nested.data]).toEqual([9, 9, 9]);
  });

  it('writes through tensors nested in objects and arrays', async () => {
    const a = Tensor.zeros([4]);
    const b = Tensor.zeros([2], 'float64');
    expect(await td.run(tasks, 'fillAll', [{ tensors: [a, b] }, 2])).toBe(2);
    expect([...a.data, ...b.data]).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('returns tensors made in the worker as Tensors', async () => {
    const t = await td.run<Tensor>(tasks, 'makeRange', [5]);
    expect(t).toBeInstanceOf(Tensor);
    expect(t.dtype).toBe('int32');
    expect([...t.data]).toEqual([0, 1, 2, 3, 4]);
  });
});
