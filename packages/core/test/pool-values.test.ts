import { describe, expect, it } from 'vitest';
import { ArgumentError, Tandem, Tensor } from '../src/index.ts';
import { workerKinds } from './helpers.ts';

const values = new URL('./fixtures/values.ts', import.meta.url);

describe.each(workerKinds)('arguments with cycles and shared references (%s workers)', (workerKind) => {
  it('a cyclic argument is sent as structured clone sends it, and a cyclic result comes back', async () => {
    await using td = await Tandem.create({ backends: [], workers: 1, workerKind });
    const a = { value: 1, next: undefined as unknown };
    const b = { value: 2, next: a };
    a.next = b;
    expect(await td.run(values, 'walkCycle', [a, 5])).toBe(1 + 2 + 1 + 2 + 1);
    const back = await td.run<{ value: number; self: unknown }>(values, 'makeCycle', [7]);
    expect(back.self).toBe(back);
    expect(back.value).toBe(7);
  });

  it('an object passed twice arrives as one, and a tensor passed twice is filled once and written back', async () => {
    await using td = await Tandem.create({ backends: [], workers: 1, workerKind });
    const shared = { x: 1 };
    expect(await td.run(values, 'sameObject', [{ a: shared, b: shared }])).toBe(true);
    const t = Tensor.zeros([8]);
    expect(await td.run(values, 'fillBoth', [{ a: t, b: t }, 3])).toBe(true);
    expect([...t.data]).toEqual(new Array(8).fill(3));
  });

  it('a tensor inside a cycle is refused at the call, naming where', async () => {
    await using td = await Tandem.create({ backends: [], workers: 1, workerKind });
    const node = { value: 1, next: undefined as unknown, tensor: Tensor.zeros([2]) };
    node.next = node;
    const error = await td.run(values, 'walkCycle', [node, 1]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as ArgumentError).argument).toBe('args[0]');
    expect((error as Error).message).toMatch(/refers back to itself and holds a tensor/);
  });
});
