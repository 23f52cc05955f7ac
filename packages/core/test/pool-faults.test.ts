import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tandem, TaskTimeoutError, WorkerCrashedError } from '../src/index.ts';
import type { CrashKind } from './fixtures/crash.ts';
import { crashes, marker, tasks, untilRunning, workerKinds } from './helpers.ts';

// 'hang' ends only by timeout, so its crash-by-timeout cases set timeoutMs.
const deaths: Array<{ kind: CrashKind; timeoutMs?: number; expected: RegExp }> = [
  { kind: 'exit', expected: /its worker exited with code 3/ },
  { kind: 'throw-outside', expected: /its worker threw outside any task: thrown outside the task/ },
  { kind: 'oom', expected: /its worker (ran out of memory|was killed by SIGABRT|exited with code 134)/ },
  { kind: 'hang', timeoutMs: 300, expected: /timed out after 300 ms on each of 1 attempt/ },
];

describe.each(workerKinds)('%s workers that die mid-task', (workerKind) => {
  let td: Tandem;
  beforeAll(async () => {
    td = await Tandem.create({ backends: [], workers: 2, workerKind, resourceLimits: { maxOldGenerationSizeMb: 96 } });
  });
  afterAll(() => td.close());

  describe.each(deaths)('by $kind', ({ kind, timeoutMs, expected }) => {
    it('are replaced, and the task succeeds on its retry', async () => {
      const before = td.stats();
      const result = await td.run(crashes, 'crashOnce', [marker(), kind], { retries: 1, timeoutMs });
      expect(result).toBe('recovered');
      const after = td.stats();
      expect(after.tasks.retries - before.tasks.retries).toBe(1);
      const restarts = (s: typeof after) => s.workers.reduce((n, w) => n + w.restarts, 0);
      expect(restarts(after) - restarts(before)).toBe(1);
    });

    it('fail the task with an error naming the attempts when no retry is left', async () => {
      const error = await td.run(crashes, 'crashAlways', [kind], { retries: 1, timeoutMs }).catch((e: unknown) => e);
      if (timeoutMs) {
        expect(error).toBeInstanceOf(TaskTimeoutError);
        expect(error).toMatchObject({ code: 'ERR_TANDEM_TASK_TIMEOUT', attempts: 2, timeoutMs });
        expect((error as Error).message).toMatch(/timed out after 300 ms on each of 2 attempts/);
      } else {
        expect(error).toBeInstanceOf(WorkerCrashedError);
        expect(error).toMatchObject({ code: 'ERR_TANDEM_WORKER_CRASHED', attempts: 2 });
        expect((error as Error).message).toMatch(/'crashAlways' of crash\.ts failed after 2 attempts/);
        expect((error as Error).message).toMatch(expected);
      }
      const first = await td.run(crashes, 'crashAlways', [kind], { timeoutMs }).catch((e: unknown) => e);
      expect(first).toMatchObject({ attempts: 1 });
      if (!timeoutMs) expect((first as Error).message).toMatch(expected);
    });
  });

  it('keep serving tasks after all those deaths', async () => {
    const results = await td.runMany<number>(tasks, 'inc', Array.from({ length: 100 }, (_, i) => [i]));
    expect(results[99]).toBe(100);
  });

  it('spare the other tasks of a batch: each still settles once, with its own result', async () => {
    const argsList: unknown[][] = Array.from({ length: 200 }, (_, i) => [i, 0]);
    argsList[57] = [57, 1]; // certain death for task 57, once
    const runs = new Int32Array(new SharedArrayBuffer(4 * 200));
    const withRuns = argsList.map(([i, p]) => [i, p, workerKind === 'thread' ? runs : undefined]);
    const settled = [];
    for await (const r of td.stream<number>(crashes, 'maybeCrash', withRuns, { retries: 0 })) settled.push(r);
    expect(settled).toHaveLength(200);
    expect(new Set(settled.map((r) => r.index)).size).toBe(200);
    for (const r of settled) {
      if (r.index === 57) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'ERR_TANDEM_WORKER_CRASHED', attempts: 1 } });
      else expect(r).toEqual({ index: r.index, status: 'fulfilled', value: r.index + 1 });
    }
  });
});

describe.each(workerKinds)('aborting tasks on %s workers', (workerKind) => {
  let td: Tandem;
  beforeAll(async () => {
    td = await Tandem.create({ backends: [], workers: 1, workerKind });
  });
  afterAll(() => td.close());

  it('removes a queued task without touching the worker', async () => {
    const busy = td.run(tasks, 'sleep', [200, 'done']);
    const controller = new AbortController();
    const queued = td.run(tasks, 'add', [1, 1], { signal: controller.signal });
    controller.abort(new Error('changed my mind'));
    await expect(queued).rejects.toThrow('changed my mind');
    expect(await busy).toBe('done');
    expect(td.stats().workers[0]!.restarts).toBe(0);
  });

  it('terminates and replaces the worker of a running task, at once', async () => {
    const controller = new AbortController();
    const running = td.run(tasks, 'sleep', [30_000], { signal: controller.signal, retries: 5 });
    await untilRunning(td);
    controller.abort();
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    // Terminated, not waited for: its worker was replaced (a 30 s sleep left to finish would not be).
    expect(await td.run(tasks, 'add', [2, 2])).toBe(4);
    expect(td.stats().workers[0]!.restarts).toBe(1);
    expect(td.stats().tasks.crashes).toBe(0);
  });

  it('rejects at once with an already aborted signal', async () => {
    await expect(td.run(tasks, 'add', [1, 1], { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('aborts a whole bulk call with one signal', async () => {
    const controller = new AbortController();
    const call = td.runMany(tasks, 'sleep', Array.from({ length: 20 }, () => [100]), { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    const s = td.stats().tasks;
    expect(s.queued + s.running).toBe(0);
  });

  it('counts timeouts from the start of the task, not from submission', async () => {
    // Each task sleeps 150 ms with a 400 ms limit; queued behind each other on one worker,
    // the last starts ~450 ms after submission, and must still succeed.
    const results = await Promise.all([1, 2, 3, 4].map((v) => td.run(tasks, 'sleep', [150, v], { timeoutMs: 400 })));
    expect(results).toEqual([1, 2, 3, 4]);
  });
});
