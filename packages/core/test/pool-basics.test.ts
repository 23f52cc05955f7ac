import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, Tandem, TaskModuleError, type Settled } from '../src/index.ts';
import { tasks } from './helpers.ts';

describe('running tasks', () => {
  let td: Tandem;
  beforeAll(async () => {
    td = await Tandem.create({ backends: [], workers: 2 });
  });
  afterAll(() => td.close());

  it('runs a named export of a TypeScript module with its arguments', async () => {
    expect(await td.run(tasks, 'add', [2, 3])).toBe(5);
    expect(await td.run(tasks.href, 'sleep', [5, 'late'])).toBe('late');
  });

  it('runs many tasks in order, in batches of many per message', async () => {
    const before = td.stats().tasks.batches;
    const argsList = Array.from({ length: 5000 }, (_, i) => [i]);
    const results = await td.runMany<number>(tasks, 'inc', argsList);
    expect(results).toEqual(argsList.map(([i]) => i! + 1));
    expect(td.stats().tasks.batches - before).toBeLessThan(500);
  });

  it('coalesces separate run() calls made together', async () => {
    const before = td.stats().tasks.batches;
    const results = await Promise.all(Array.from({ length: 2000 }, (_, i) => td.run<number>(tasks, 'inc', [i])));
    expect(results[1999]).toBe(2000);
    expect(td.stats().tasks.batches - before).toBeLessThan(400);
  });

  it('streams each task once as it settles, failures included', async () => {
    const argsList: unknown[][] = Array.from({ length: 300 }, (_, i) => [i]);
    const seen = new Map<number, Settled<number>>();
    for await (const r of td.stream<number>(tasks, 'inc', argsList)) {
      expect(seen.has(r.index)).toBe(false);
      seen.set(r.index, r);
    }
    expect(seen.size).toBe(300);
    expect(seen.get(299)).toEqual({ index: 299, status: 'fulfilled', value: 300 });

    const mixed: Settled<unknown>[] = [];
    for await (const r of td.stream(tasks, 'throwPlain', [['a'], ['b']])) mixed.push(r);
    expect(mixed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('aborts the rest of a stream left early', async () => {
    const argsList = Array.from({ length: 50 }, () => [50]);
    let n = 0;
    for await (const _ of td.stream(tasks, 'sleep', argsList)) if (++n === 2) break;
    const s = td.stats().tasks;
    expect(s.running + s.queued).toBe(0);
  });

  it('reports progress of a bulk call', async () => {
    const seen: number[] = [];
    await td.runMany(tasks, 'inc', [[1], [2], [3]], { onProgress: (done, total) => seen.push(done * 10 + total) });
    expect(seen).toEqual([13, 23, 33]);
  });

  it('keeps name, message, stack, code and own properties of a task error', async () => {
    const error = await td.run(tasks, 'fail', ['out of range', 'E_RANGE', { detail: { limit: 3 } }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toMatchObject({ name: 'RangeError', message: 'out of range', code: 'E_RANGE', detail: { limit: 3 } });
    expect((error as Error).stack).toMatch(/fixtures[\\/]tasks\.ts/);
    expect(await td.run(tasks, 'throwPlain', ['just a string']).catch((e: unknown) => e)).toBe('just a string');
  });

  it('does not retry ordinary errors unless retryOn asks', async () => {
    const before = td.stats().tasks.retries;
    await expect(td.run(tasks, 'fail', ['x', 'E', {}], { retries: 3 })).rejects.toMatchObject({ code: 'E' });
    expect(td.stats().tasks.retries).toBe(before);
    const error = await td.run(tasks, 'fail', ['x', 'E', {}], { retries: 2, retryOn: (e) => (e as { code?: string }).code === 'E' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E', attempts: 3 });
    expect(td.stats().tasks.retries).toBe(before + 2);
  });

  it('runs higher priority first', async () => {
    const solo = await Tandem.create({ backends: [], workers: 1 });
    try {
      const log = new Int32Array(new SharedArrayBuffer(4 * 8));
      const blocker = solo.run(tasks, 'sleep', [100]);
      await new Promise((r) => setTimeout(r, 20));
      const runs = [1, 2, 3].map((v) => solo.run(tasks, 'order', [log, v], { priority: v === 3 ? 10 : 0 }));
      await Promise.all([blocker, ...runs]);
      expect([...log.slice(1, 4)]).toEqual([3, 1, 2]);
    } finally {
      await solo.close();
    }
  });

  it('lists the CPU device and reports per-worker stats', () => {
    const [cpu] = td.devices();
    expect(cpu).toMatchObject({ id: 'cpu', kind: 'cpu', lanes: 2 });
    const stats = td.stats();
    expect(stats.workers).toHaveLength(2);
    expect(stats.tasks.completed).toBeGreaterThan(7000);
    expect(stats.runMs.count).toBeGreaterThan(7000);
    expect(stats.workers.reduce((n, w) => n + w.tasks, 0)).toBe(stats.runMs.count);
    for (const w of stats.workers) {
      // Both workers ran thousands of tasks: each was busy a measurable share of the pool's life.
      expect(w.tasks).toBeGreaterThan(0);
      expect(w.busyMs).toBeGreaterThan(0);
      expect(w.utilisation).toBeCloseTo(w.busyMs / stats.uptimeMs, 9);
      expect(w.utilisation).toBeGreaterThan(0);
      expect(w.utilisation).toBeLessThanOrEqual(1);
    }
  });
});

describe('bad input', () => {
  let td: Tandem;
  beforeAll(async () => {
    td = await Tandem.create({ backends: [], workers: 1 });
  });
  afterAll(() => td.close());

  it.each([
    [{ workers: 0 }, /workers: expected a positive integer; got 0/],
    [{ workers: 1.5 }, /workers: expected a positive integer; got 1.5/],
    [{ workers: -2 }, /workers: expected a positive integer/],
    [{ workerKind: 'fiber' }, /workerKind: expected 'thread' or 'process'/],
    [{ maxQueue: 0 }, /maxQueue: expected a positive integer/],
  ])('rejects pool options %j', async (options, message) => {
    await expect(Tandem.create(options as never)).rejects.toThrow(message);
    await expect(Tandem.create(options as never)).rejects.toBeInstanceOf(ArgumentError);
  });

  it('rejects a module that does not exist, at the call', async () => {
    const missing = new URL('./fixtures/nope.ts', import.meta.url);
    await expect(td.run(missing, 'x')).rejects.toThrow(/task module not found: .*nope\.ts/);
    await expect(td.run(missing, 'x')).rejects.toMatchObject({ code: 'ERR_TANDEM_MODULE_NOT_FOUND' });
    await expect(td.run('tasks', 'x')).rejects.toThrow(/module: expected a file URL or path/);
  });

  it('rejects an export that is not a function, naming the ones there are', async () => {
    const error = await td.run(tasks, 'notAFunction').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskModuleError);
    expect(error).toMatchObject({ code: 'ERR_TANDEM_EXPORT_NOT_FUNCTION' });
    expect((error as Error).message).toMatch(/no function export 'notAFunction' \(it is number\); its function exports: add, /);
    await expect(td.run(tasks, 'missing')).rejects.toMatchObject({ code: 'ERR_TANDEM_EXPORT_NOT_FUNCTION' });
  });

  it('rejects arguments that cannot be cloned, naming the path', async () => {
    await expect(td.run(tasks, 'add', [1, () => 2])).rejects.toThrow(/args\[1\]: expected a value that can be sent to a worker/);
    await expect(td.run(tasks, 'add', [{ deep: { fn: Symbol('s') } }])).rejects.toThrow(/args\[0\]\.deep\.fn/);
    await expect(td.runMany(tasks, 'add', [[1, 2], [Promise.resolve(1)]])).rejects.toThrow(/argsList\[1\]\[0\]/);
    await expect(td.run(tasks, 'add', 'nope' as never)).rejects.toThrow(/args: expected an array/);
    await expect(td.run(tasks, '' as never)).rejects.toThrow(/exportName: expected/);
  });

  it('rejects bad task options', async () => {
    await expect(td.run(tasks, 'add', [1, 2], { timeoutMs: -1 })).rejects.toThrow(/options\.timeoutMs: expected a positive, finite number/);
    await expect(td.run(tasks, 'add', [1, 2], { retries: 1.5 })).rejects.toThrow(/options\.retries: expected a non-negative integer/);
    await expect(td.run(tasks, 'add', [1, 2], { signal: {} as never })).rejects.toThrow(/options\.signal: expected an AbortSignal/);
    await expect(td.run(tasks, 'add', [1, 2], { priority: Number.NaN })).rejects.toThrow(/options\.priority/);
  });

  it('still works after all that', async () => {
    expect(await td.run(tasks, 'add', [20, 22])).toBe(42);
    expect(td.stats().tasks.crashes).toBe(0);
  });
});
