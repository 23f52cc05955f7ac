import { describe, expect, it } from 'vitest';
import { Tandem, type Settled } from '../src/index.ts';
import { crashes, workerKinds } from './helpers.ts';

const N = 10_000;
// About 10 crashes per run of 10,000 tasks: each costs a worker restart (~0.3 s here).
const P = 0.001;

describe.each(workerKinds)('10,000 tasks on %s workers with crashes injected at random', (workerKind) => {
  it('settles every task exactly once, each with its own result, when retries cover the crashes', async () => {
    await using td = await Tandem.create({ backends: [], workers: 2, workerKind });
    const runs = new Int32Array(new SharedArrayBuffer(4 * N));
    const argsList = Array.from({ length: N }, (_, i) => [i, P, workerKind === 'thread' ? runs : undefined]);
    const seen = new Uint8Array(N);
    for await (const r of td.stream<number>(crashes, 'maybeCrash', argsList, { retries: 20 })) {
      seen[r.index]!++;
      expect(r).toEqual({ index: r.index, status: 'fulfilled', value: r.index + 1 });
    }
    expect(seen.every((n) => n === 1)).toBe(true);
    const stats = td.stats();
    expect(stats.tasks.completed).toBe(N);
    expect(stats.tasks.failed).toBe(0);
    expect(stats.tasks.crashes).toBeGreaterThan(0);
    // Every crash was charged to exactly the task that was running (the worker's cursor names it).
    expect(stats.tasks.retries).toBe(stats.tasks.crashes);
    if (workerKind === 'thread') {
      // Nothing ran twice except the crashed task and batch-mates whose results died with the worker.
      let extra = 0;
      for (const n of runs) extra += n - 1;
      expect(extra).toBeGreaterThanOrEqual(stats.tasks.crashes);
    }
  });

  it('settles every task exactly once when crashes exhaust retries', async () => {
    await using td = await Tandem.create({ backends: [], workers: 2, workerKind });
    const argsList = Array.from({ length: N }, (_, i) => [i, P]);
    const outcomes: Settled<number>[] = [];
    for await (const r of td.stream<number>(crashes, 'maybeCrash', argsList, { retries: 0 })) outcomes.push(r);
    expect(outcomes).toHaveLength(N);
    expect(new Set(outcomes.map((r) => r.index)).size).toBe(N);
    const failed = outcomes.filter((r) => r.status === 'rejected');
    const stats = td.stats();
    expect(failed.length).toBe(stats.tasks.crashes);
    expect(stats.tasks.completed + stats.tasks.failed).toBe(N);
    for (const r of failed) expect(r).toMatchObject({ reason: { code: 'ERR_TANDEM_WORKER_CRASHED', attempts: 1 } });
    for (const r of outcomes) if (r.status === 'fulfilled') expect(r.value).toBe(r.index + 1);
  });
});
