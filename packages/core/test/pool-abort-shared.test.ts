import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Tandem } from '../src/index.ts';
import { tasks, workerKinds } from './helpers.ts';

describe('one AbortSignal shared by many calls', () => {
  it('holds one listener however many run(), runMany() and stream() calls watch it, and none once they settle', async () => {
    await using td = await Tandem.create({ backends: [], workers: 2 });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const { signal } = controller;
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 40; i++) calls.push(td.run(tasks, 'add', [i, 1], { signal }));
      for (let i = 0; i < 12; i++) calls.push(td.runMany(tasks, 'inc', [[i], [i + 1]], { signal }));
      expect(getEventListeners(signal, 'abort')).toHaveLength(1);
      const results = await Promise.all(calls);
      expect(results.slice(0, 40)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      await new Promise((resolve) => setImmediate(resolve));
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it.each(workerKinds)('aborting it rejects every pending call once with the reason, and the session then closes (%s workers)', async (workerKind) => {
    // `await using` closes while the aborted batch's worker is still being ended: close() once hung there.
    await using td = await Tandem.create({ backends: [], workers: 1, workerKind });
    const controller = new AbortController();
    const { signal } = controller;
    const pending = Array.from({ length: 30 }, () => td.run(tasks, 'sleep', [5_000], { signal }).then(() => 'resolved', (e: unknown) => e));
    const reason = new Error('stop');
    setImmediate(() => controller.abort(reason));
    const outcomes = await Promise.all(pending);
    expect(outcomes.every((o) => o === reason)).toBe(true);
    expect(td.stats().tasks.aborted).toBe(30);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
