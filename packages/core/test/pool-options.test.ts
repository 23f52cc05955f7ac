import { describe, expect, it } from 'vitest';
import { Tandem, type ProgressEvent } from '../src/index.ts';
import { tasks } from './helpers.ts';

describe('transfer', () => {
  it('moves an ArrayBuffer to the worker instead of copying it', async () => {
    await using td = await Tandem.create({ backends: [], workers: 1 });
    const buffer = new Uint8Array([1, 2, 3, 4]).buffer;
    expect(await td.run(tasks, 'sumBytes', [buffer], { transfer: [buffer] })).toBe(10);
    expect(buffer.byteLength).toBe(0); // detached: it now belongs to the worker
  });

  it('is refused for process workers, which have no transfer', async () => {
    await using td = await Tandem.create({ backends: [], workers: 1, workerKind: 'process' });
    const buffer = new ArrayBuffer(4);
    await expect(td.run(tasks, 'sumBytes', [buffer], { transfer: [buffer] })).rejects.toThrow(/options\.transfer: expected transfers between threads only/);
    expect(await td.run(tasks, 'sumBytes', [buffer])).toBe(0);
  });
});

describe('session progress', () => {
  it('reports done of total for everything submitted, until unsubscribed', async () => {
    await using td = await Tandem.create({ backends: [], workers: 2 });
    const events: ProgressEvent[] = [];
    const off = td.onProgress((e) => events.push(e));
    await td.runMany(tasks, 'inc', Array.from({ length: 50 }, (_, i) => [i]));
    await td.run(tasks, 'add', [1, 2]);
    off();
    await td.run(tasks, 'add', [1, 2]);
    expect(events).toHaveLength(51);
    expect(events.at(-1)).toEqual({ done: 51, total: 51 });
    expect(events.map((e) => e.done)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
  });
});
