import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, PoolClosedError, WorkerCrashedError, WorkerPool } from '../src/index.ts';
import { crashes, tasks, untilRunning } from './helpers.ts';

const stateful = new URL('./fixtures/stateful.ts', import.meta.url);

describe('WorkerPool.lease', () => {
  let pool: WorkerPool;
  afterEach(() => pool?.destroy());

  it('pins tasks to their leased worker and keeps general work off it until released', async () => {
    pool = new WorkerPool({ workers: 2 });
    await pool.ready();
    const lease = pool.lease(1);
    const leasedSlot = lease.slotOf(0);
    const leasedThread = pool.stats().workers[leasedSlot]!.threadId;
    // Module state stays on the worker between the lease's tasks.
    expect(await lease.run(0, stateful, 'bump')).toBe(1);
    expect(await lease.run(0, stateful, 'bump')).toBe(2);
    expect(await lease.run(0, stateful, 'whoAmI')).toBe(leasedThread);
    expect(pool.stats().workers[leasedSlot]!.leased).toBe(true);
    const general: number[] = [];
    await Promise.all(Array.from({ length: 40 }, (_, i) => pool.run(tasks, 'sleep', [1, i], { onRun: (r) => general.push(r.worker) })));
    expect(general).toHaveLength(40);
    expect(general.every((w) => w !== leasedSlot)).toBe(true);
    // Counted as the pool's own work: no thread of its own.
    expect(pool.stats().workers[leasedSlot]!.tasks).toBe(3);
    lease.release();
    expect(pool.stats().workers[leasedSlot]!.leased).toBe(false);
    const after = new Set<number>();
    await Promise.all(Array.from({ length: 40 }, (_, i) => pool.run(tasks, 'sleep', [2, i], { onRun: (r) => after.add(r.worker) })));
    expect(after.has(leasedSlot)).toBe(true);
    await expect(lease.run(0, stateful, 'bump')).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('refuses to lend more workers than are free, naming the argument', async () => {
    pool = new WorkerPool({ workers: 2 });
    const lease = pool.lease(2);
    expect(() => pool.lease(1)).toThrow(ArgumentError);
    expect(() => pool.lease(1)).toThrow(/workers/);
    lease.release();
    expect(() => pool.lease(0)).toThrow(ArgumentError);
    expect(pool.lease(2).size).toBe(2);
  });

  it('replaces a crashed leased worker in its slot, still leased', async () => {
    pool = new WorkerPool({ workers: 2 });
    const lease = pool.lease(1);
    const slot = lease.slotOf(0);
    expect(await lease.run(0, stateful, 'bump')).toBe(1);
    await expect(lease.run(0, crashes, 'crashAlways', ['exit'])).rejects.toBeInstanceOf(WorkerCrashedError);
    // A fresh worker: its module state starts over; same slot, still off general scheduling.
    expect(await lease.run(0, stateful, 'bump')).toBe(1);
    const w = pool.stats().workers[slot]!;
    expect(w.restarts).toBe(1);
    expect(w.leased).toBe(true);
    expect(pool.stats().tasks.crashes).toBe(1);
  });

  it('restart() ends a running task now and resolves once a fresh worker is ready', async () => {
    pool = new WorkerPool({ workers: 1 });
    const lease = pool.lease(1);
    const running = lease.run(0, tasks, 'sleep', [60_000]);
    running.catch(() => undefined);
    await untilRunning(pool);
    await lease.restart(0);
    await expect(running).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(pool.stats().workers[0]!.restarts).toBe(1);
    expect(pool.stats().tasks.crashes).toBe(0); // asked for, not a crash
    expect(await lease.run(0, stateful, 'bump')).toBe(1);
  });

  it('rejects tasks still waiting on a worker when the lease is released, and aborts a running one', async () => {
    pool = new WorkerPool({ workers: 1 });
    const lease = pool.lease(1);
    const controller = new AbortController();
    const running = lease.run(0, tasks, 'sleep', [60_000], { signal: controller.signal });
    const waiting = lease.run(0, stateful, 'bump');
    running.catch(() => undefined);
    waiting.catch(() => undefined);
    await untilRunning(pool);
    controller.abort(new Error('stop'));
    await expect(running).rejects.toThrow('stop');
    lease.release();
    await expect(waiting).rejects.toBeInstanceOf(PoolClosedError);
    await pool.close(); // nothing left pending: close() does not wait forever
  });
});
