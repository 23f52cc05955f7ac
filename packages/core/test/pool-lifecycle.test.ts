import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { PoolClosedError, QueueFullError, Tandem } from '../src/index.ts';
import { tasks, untilRunning, workerKinds } from './helpers.ts';

describe.each(workerKinds)('closing a pool of %s workers', (workerKind) => {
  it('close() finishes queued and running work, then refuses new tasks', async () => {
    const td = await Tandem.create({ backends: [], workers: 2, workerKind });
    const work = Array.from({ length: 10 }, (_, i) => td.run(tasks, 'sleep', [30, i]));
    const closed = td.close();
    await expect(td.run(tasks, 'add', [1, 2])).rejects.toBeInstanceOf(PoolClosedError);
    expect(await Promise.all(work)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await closed;
    expect(td.stats().workers.every((w) => w.state === 'retired')).toBe(true);
  });

  it('destroy() rejects queued and running work at once', async () => {
    const td = await Tandem.create({ backends: [], workers: 1, workerKind });
    const work = Array.from({ length: 5 }, () => td.run(tasks, 'sleep', [10_000]));
    const settled = Promise.allSettled(work);
    await untilRunning(td);
    await td.destroy();
    // The running task sleeps 10 s: had destroy() waited for it, it would have resolved, not rejected.
    const outcomes = await settled;
    for (const o of outcomes) expect(o).toMatchObject({ status: 'rejected', reason: { code: 'ERR_TANDEM_POOL_DESTROYED' } });
    await expect(td.run(tasks, 'add', [1, 2])).rejects.toMatchObject({ code: 'ERR_TANDEM_POOL_DESTROYED' });
  });

  it('await using closes the pool at the end of the block', async () => {
    let pending: Promise<unknown>;
    let stats;
    {
      await using td = await Tandem.create({ backends: [], workers: 1, workerKind });
      pending = td.run(tasks, 'sleep', [50, 'finished']);
      stats = () => td.stats();
    }
    expect(await pending).toBe('finished');
    expect(stats().workers[0]!.state).toBe('retired');
  });
});

describe('backpressure', () => {
  it("rejects past maxQueue with onQueueFull: 'error'", async () => {
    await using td = await Tandem.create({ backends: [], workers: 1, maxQueue: 3 });
    const running = td.run(tasks, 'sleep', [100]);
    await untilRunning(td);
    const queued = [1, 2, 3].map((i) => td.run(tasks, 'add', [i, 0]));
    await expect(td.run(tasks, 'add', [4, 0])).rejects.toBeInstanceOf(QueueFullError);
    await expect(td.run(tasks, 'add', [4, 0])).rejects.toThrow(/maxQueue = 3/);
    expect(await Promise.all([running, ...queued])).toEqual([undefined, 1, 2, 3]);
  });

  it("waits for room with onQueueFull: 'wait', never holding more than maxQueue", async () => {
    await using td = await Tandem.create({ backends: [], workers: 1, maxQueue: 4, onQueueFull: 'wait' });
    // stats() counts tasks waiting for room as queued too, so the pool's own queue is watched at
    // every push: a peak sampled on a timer could miss an overshoot.
    const queue = (td as unknown as { pool: { queue: { size: number; push(t: unknown): void } } }).pool.queue;
    const push = queue.push.bind(queue);
    let peak = 0;
    queue.push = (t) => {
      push(t);
      peak = Math.max(peak, queue.size);
    };
    let maxWaiting = 0;
    const results = Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const r = td.run<number>(tasks, 'sleep', [2, i]);
        maxWaiting = Math.max(maxWaiting, td.stats().tasks.queued);
        return r;
      }),
    );
    const values = await results;
    expect(values).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(peak).toBe(4);
    // More than maxQueue were submitted at once, so some really waited for room.
    expect(maxWaiting).toBeGreaterThan(4);
  });
});

describe('memory', () => {
  it('stays bounded over 100,000 tasks', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await using td = await Tandem.create({ backends: [], workers: 2 });
    const chunk = Array.from({ length: 10_000 }, (_, i) => [i]);
    const heapAfterGc = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    await td.runMany(tasks, 'inc', chunk);
    const start = heapAfterGc();
    for (let round = 0; round < 10; round++) {
      const results = await td.runMany<number>(tasks, 'inc', chunk);
      expect(results[9_999]).toBe(10_000);
    }
    const growth = heapAfterGc() - start;
    expect(td.stats().tasks.completed).toBe(110_000);
    expect(growth).toBeLessThan(8 * 1024 * 1024);
  });
});
