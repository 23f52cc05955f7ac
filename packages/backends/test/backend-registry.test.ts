/**
 * The backend registry: a backend defined in the user's own file, registered before the session
 * opens, is calibrated and planned like Tandem's own — and every way of registering or opening
 * one wrongly fails with an error naming the backend.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, BackendUnavailableError, Tandem, Tensor } from '@tandem/core';
import { registerBackend, registeredBackends, unregisterBackend } from '@tandem/core/backend';
import { HostAddBackend } from './fixtures/host-add-backend.ts';
// Registers Tandem's backends, as `import '@tandem/backends'` does for a user.
import '../src/index.ts';

const N = 1 << 20;
const ramp = (k: number) => Tensor.from(Array.from({ length: N }, (_, i) => (i % 1000) * k), [N]);
const mine: string[] = [];

/** Registers a backend under a fresh name, removed after the test. */
function register(name: string, create: () => unknown, extra: { openTimeoutMs?: number } = {}): string {
  registerBackend({ name, create: create as never, ...extra });
  mine.push(name);
  return name;
}

afterEach(() => {
  for (const name of mine.splice(0)) unregisterBackend(name);
});

describe('a backend of the user', () => {
  it('is opened by name, calibrated on first use, and given split chunks beside the cpu', async () => {
    let made: HostAddBackend | undefined;
    const name = register('hostadd', () => (made = new HostAddBackend('hostadd')));
    await using td = await Tandem.create({ workers: 2, backends: ['cpu', name], costCache: false, policy: 'eager' });
    expect(td.devices().map((d) => d.id)).toEqual(['cpu', 'hostadd:0']);
    const a = ramp(1);
    const b = ramp(2);
    const sum = await td.ops.add(a, b).values();
    for (let i = 0; i < N; i += 997) expect(sum[i]).toBe((i % 1000) * 3);
    // Split chunks went to both devices and tile the range.
    expect(made!.ranges.length).toBeGreaterThan(0);
    const chunks = td.explain().split('\n').filter((l) => /^\s+(cpu|hostadd:0)\s+add\b/.test(l));
    expect(new Set(chunks.map((l) => l.trim().split(/\s+/)[0]))).toEqual(new Set(['cpu', 'hostadd:0']));
    const covered = new Uint8Array(N);
    for (const r of made!.ranges) for (let i = r.start; i < r.end; i++) covered[i] = covered[i]! + 1;
    expect(covered.every((c) => c <= 1)).toBe(true);
  });

  it('under auto, is calibrated before its first large op and gets a cost model like any device', async () => {
    const name = register('hostadd2', () => new HostAddBackend('hostadd2'));
    await using td = await Tandem.create({ workers: 2, backends: ['cpu', name], costCache: false });
    const sum = await td.ops.add(ramp(1), ramp(1)).values();
    expect(sum[N - 1]).toBe(((N - 1) % 1000) * 2);
    // The per-kernel summary, which explain() always prints (its piece list shows only the last 24,
    // and a split after calibration can push the calibration pieces out of it).
    expect(td.explain()).toMatch(/add \(calibration\) on hostadd2:0\s+3 pieces/);
    expect(td.costs.predictKernel('add', 'hostadd2:0', N)).toBeGreaterThan(0);
  });

  it('opens by default, in priority order, when no backend is named', async () => {
    registerBackend({ name: 'hostadd3', priority: 100, create: () => new HostAddBackend('hostadd3') });
    mine.push('hostadd3');
    expect(registeredBackends()[0]).toBe('hostadd3');
    await using td = await Tandem.create({ workers: 1, backends: ['hostadd3', 'cpu'], costCache: false });
    expect(td.devices()[0]!.id).toBe('hostadd3:0');
  });
});

describe('registering and opening backends wrongly', () => {
  it('refuses a second registration of a name, an empty name and a create that is not a function', () => {
    const name = register('twice', () => new HostAddBackend('twice'));
    expect(() => registerBackend({ name, create: () => new HostAddBackend(name) })).toThrow(/backend 'twice' is registered already/);
    expect(() => registerBackend({ name: '', create: () => new HostAddBackend('x') })).toThrow(ArgumentError);
    expect(() => registerBackend({ name: 42 as never, create: () => new HostAddBackend('x') })).toThrow(/registration\.name: expected a non-empty string/);
    expect(() => registerBackend({ name: 'nocreate', create: 'no' as never })).toThrow(/registration\.create: expected a function .* backend 'nocreate'/);
  });

  it('names an unregistered backend and lists the registered ones', async () => {
    const error = await Tandem.create({ workers: 1, backends: ['nosuch'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(/no backend named 'nosuch' is registered \(registered: .*cpu.*webgpu/);
  });

  it('reports a create that throws, naming the backend', async () => {
    const name = register('throws', () => {
      throw new Error('no hardware here');
    });
    const error = await Tandem.create({ workers: 1, backends: [name] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(/throws: failed to open: no hardware here/);
  });

  it('gives up on a create that never resolves, after its open timeout', async () => {
    const name = register('hangs', () => new Promise(() => {}), { openTimeoutMs: 200 });
    const error = await Tandem.create({ workers: 1, backends: [name] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(/hangs: did not open within 200 ms/);
  });

  it('refuses what create returns when it is not a backend, or is named otherwise', async () => {
    const notOne = register('notone', () => ({ name: 'notone' }));
    await expect(Tandem.create({ workers: 1, backends: [notOne] })).rejects.toThrow(/notone: create\(\) did not return a backend/);
    const misnamed = register('misnamed', () => new HostAddBackend('other'));
    await expect(Tandem.create({ workers: 1, backends: [misnamed] })).rejects.toThrow(/misnamed: create\(\) returned a backend named 'other'/);
  });

  it('leaves a failing backend out of a default session, and says why', async () => {
    register('broken', () => {
      throw new Error('driver missing');
    });
    await using td = await Tandem.create({ workers: 1 });
    expect(td.devices().map((d) => d.id)).toContain('cpu');
    expect(td.unavailable.find((u) => u.name === 'broken')?.reason).toMatch(/driver missing/);
  });
});
