/**
 * ChunkSizer, which cuts one data-parallel call across devices: shares from the model's rates,
 * guided self-scheduling (shrinking chunks, down to a minimum), probes for unmodelled devices,
 * a failed device's chunk handed to the others whole, and static shares.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/index.ts';
import type { IndexRange } from '../src/backend/index.ts';
import { CostModel } from '../src/planner/cost-model.ts';
import { ChunkSizer } from '../src/planner/split-sizing.ts';
import { FakeDevice } from './fixtures/fake-device.ts';

const UNITS = 1 << 16;

function devices() {
  return { cpu: new FakeDevice('cpu', { kind: 'cpu', msPerElement: 3e-4 }), gpu: new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 1e-4 }) };
}

/** A model that predicts `ms` on each device for relu of UNITS elements. */
function model(ms: Record<string, number>): CostModel {
  const m = new CostModel();
  for (const [device, t] of Object.entries(ms)) for (let i = 0; i < 4; i++) m.recordKernel('relu', device, UNITS, t);
  return m;
}

const size = (r: IndexRange | undefined) => (r ? r.end - r.start : 0);

/** Ranges sorted by start tile [0, extent) exactly. */
function expectTiled(ranges: IndexRange[], extent: number): void {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  let at = 0;
  for (const r of sorted) {
    expect(r.start).toBe(at);
    at = r.end;
  }
  expect(at).toBe(extent);
}

describe('ChunkSizer', () => {
  it('gives each device half its rate-proportional share of what remains', () => {
    const { cpu, gpu } = devices();
    const m = model({ cpu: 30, 'gpu:0': 10 });
    const sizer = new ChunkSizer('relu', UNITS, 1, [cpu, gpu], m, { policy: 'auto' });
    const rate = (d: FakeDevice) => UNITS / m.predictKernel('relu', d.device.id, UNITS)!;
    const gpuShare = rate(gpu) / (rate(gpu) + rate(cpu));
    expect(gpuShare).toBeCloseTo(0.75, 6);
    const first = sizer.take(gpu)!;
    expect(first).toEqual({ start: 0, end: Math.ceil((UNITS * gpuShare) / 2) });
    const second = sizer.take(cpu)!;
    expect(second).toEqual({ start: first.end, end: first.end + Math.ceil(((UNITS - first.end) * (1 - gpuShare)) / 2) });
  });

  it('splits in proportion to speed when devices take chunks as they finish, and tiles the range', () => {
    const { cpu, gpu } = devices();
    const sizer = new ChunkSizer('relu', UNITS, 1, [cpu, gpu], model({ cpu: 30, 'gpu:0': 10 }), { policy: 'auto' });
    // Each device takes its next chunk when its last one is done, at its true speed (the model's).
    const msPerUnit = new Map([[cpu, 30 / UNITS], [gpu, 10 / UNITS]]);
    const freeAt = new Map([[cpu, 0], [gpu, 0]]);
    const got = new Map([[cpu, 0], [gpu, 0]]);
    const ranges: IndexRange[] = [];
    for (;;) {
      const d = [...freeAt].sort((a, b) => a[1] - b[1]).map(([b]) => b).find((b) => freeAt.get(b)! < Number.POSITIVE_INFINITY)!;
      if (!d) break;
      const r = sizer.take(d);
      if (!r) {
        freeAt.set(d, Number.POSITIVE_INFINITY);
        continue;
      }
      ranges.push(r);
      got.set(d, got.get(d)! + size(r));
      freeAt.set(d, freeAt.get(d)! + size(r) * msPerUnit.get(d)!);
    }
    expectTiled(ranges, UNITS);
    expect(got.get(gpu)! / UNITS).toBeGreaterThan(0.7);
    expect(got.get(gpu)! / UNITS).toBeLessThan(0.8);
    expect(sizer.pending).toBe(false);
  });

  it('hands one device shrinking chunks, none below the minimum but the last remnant', () => {
    const { cpu, gpu } = devices();
    const sizer = new ChunkSizer('relu', UNITS, 1, [cpu, gpu], model({ cpu: 10, 'gpu:0': 10 }), { policy: 'auto' });
    const min = Math.ceil(UNITS / (32 * 2));
    const sizes: number[] = [];
    for (let r = sizer.take(gpu); r; r = sizer.take(gpu)) sizes.push(size(r));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(UNITS);
    expect(sizes[0]).toBe(UNITS / 4); // half of an even share
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]!).toBeLessThanOrEqual(sizes[i - 1]!);
    expect(sizes.slice(0, -1).every((s) => s >= min)).toBe(true);
    expect(sizes.filter((s) => s === min).length).toBeGreaterThan(1);
    expect(sizes.at(-1)!).toBeLessThanOrEqual(min);
    expect(sizer.take(cpu)).toBeUndefined();
  });

  it('probes an unmodelled device with a 1/(16 × devices) chunk, then follows what it measured, halfway each time', () => {
    const { cpu, gpu } = devices();
    const sizer = new ChunkSizer('relu', UNITS, 1, [cpu, gpu], new CostModel(), { policy: 'auto' });
    const probe = UNITS / 32;
    expect(size(sizer.take(cpu))).toBe(probe);
    expect(size(sizer.take(gpu))).toBe(probe);
    // The GPU did its probe 3× as fast: 3/4 of the rate.
    sizer.measured(cpu, probe, 3);
    sizer.measured(gpu, probe, 1);
    const remaining = UNITS - 2 * probe;
    expect(size(sizer.take(gpu))).toBe(Math.ceil((remaining * 0.75) / 2));
    // A measurement moves a rate halfway: the CPU measured as fast as the GPU is now at 2/3 of it.
    sizer.measured(cpu, probe, 1);
    const left = UNITS - 2 * probe - Math.ceil((remaining * 0.75) / 2);
    const cpuRate = 0.5 * (probe / 3) + 0.5 * probe;
    expect(size(sizer.take(cpu))).toBe(Math.ceil((left * (cpuRate / (cpuRate + probe))) / 2));
  });

  it('takes a measurement of no time for none', () => {
    const { cpu, gpu } = devices();
    const sizer = new ChunkSizer('relu', UNITS, 1, [cpu, gpu], new CostModel(), { policy: 'auto' });
    sizer.measured(cpu, UNITS / 32, 0);
    expect(size(sizer.take(cpu))).toBe(UNITS / 32);
  });

  it('hands a failed device\'s chunk, whole, to the next device that asks, and no more work to the failed one', () => {
    const { cpu, gpu } = devices();
    const sizer = new ChunkSizer('relu', UNITS, 1, [cpu, gpu], model({ cpu: 10, 'gpu:0': 10 }), { policy: 'auto' });
    const lost = sizer.take(gpu)!;
    const ranges: IndexRange[] = [sizer.take(cpu)!];
    sizer.giveBack(gpu, lost);
    expect([...sizer.live()]).toEqual([cpu]);
    expect(sizer.take(gpu)).toBeUndefined();
    expect(sizer.pending).toBe(true);
    expect(sizer.take(cpu)).toEqual(lost);
    for (let r = sizer.take(cpu); r; r = sizer.take(cpu)) ranges.push(r);
    expectTiled([lost, ...ranges], UNITS);
    expect(sizer.pending).toBe(false);
  });

  it('aligns chunks to the kernel\'s alignment and clips the last to the extent', () => {
    const { cpu, gpu } = devices();
    const extent = 10_000;
    const sizer = new ChunkSizer('relu', extent, 64, [cpu, gpu], new CostModel(), { policy: 'eager' });
    const ranges: IndexRange[] = [];
    for (let turn = 0; sizer.pending; turn++) ranges.push(sizer.take(turn % 2 ? gpu : cpu)!);
    expect(ranges.every((r) => r.start % 64 === 0)).toBe(true);
    expect(ranges.slice(0, -1).every((r) => size(r) % 64 === 0)).toBe(true);
    expectTiled(ranges, extent);
  });

  it('gives a device of several lanes chunks of at least the smallest chunk per lane, so none of its lanes idles', () => {
    const cpu = new FakeDevice('cpu', { kind: 'cpu', msPerElement: 3e-4, lanes: 8 });
    const gpu = new FakeDevice('gpu:0', { kind: 'gpu', msPerElement: 1e-4 });
    const sizer = new ChunkSizer('relu', UNITS, 1, [cpu, gpu], model({ cpu: 30, 'gpu:0': 10 }), { policy: 'auto' });
    const smallest = Math.ceil(UNITS / (32 * 2));
    const taken: Array<{ device: FakeDevice; range: IndexRange }> = [];
    while (sizer.pending) {
      for (const device of [gpu, cpu]) {
        const range = sizer.take(device);
        if (range) taken.push({ device, range });
      }
    }
    expectTiled(taken.map((t) => t.range), UNITS);
    const cpuChunks = taken.filter((t) => t.device === cpu).map((t) => size(t.range));
    // Every CPU chunk but one cut short by the end of the range spans 8 lanes' worth.
    expect(cpuChunks.filter((n) => n < 8 * smallest).length).toBeLessThanOrEqual(1);
    expect(taken.filter((t) => t.device === gpu).some((t) => size(t.range) < 8 * smallest)).toBe(true);
  });

  describe('static shares', () => {
    it('gives each device one contiguous chunk, in device order, sized by its normalised share', () => {
      for (const shares of [{ cpu: 1, 'gpu:0': 3 }, { cpu: 0.5, 'gpu:0': 1.5 }, { 'gpu:0': 300, cpu: 100 }]) {
        const { cpu, gpu } = devices();
        const sizer = new ChunkSizer('relu', 1000, 1, [cpu, gpu], new CostModel(), { policy: 'auto', shares });
        expect(sizer.take(gpu)).toEqual({ start: 250, end: 1000 });
        expect(sizer.take(cpu)).toEqual({ start: 0, end: 250 });
        expect(sizer.take(cpu)).toBeUndefined();
        expect(sizer.take(gpu)).toBeUndefined();
        expect(sizer.pending).toBe(false);
      }
    });

    it('gives nothing to a device with no share or a negative one, and re-hands a failed chunk', () => {
      const { cpu, gpu } = devices();
      const sizer = new ChunkSizer('relu', 1000, 1, [cpu, gpu], new CostModel(), { policy: 'auto', shares: { cpu: -1, 'gpu:0': 2 } });
      expect(sizer.take(cpu)).toBeUndefined();
      const all = sizer.take(gpu)!;
      expect(all).toEqual({ start: 0, end: 1000 });
      sizer.giveBack(gpu, all);
      expect(sizer.take(cpu)).toEqual(all);
    });

    it('refuses shares that give no device any work, with an ArgumentError naming the devices', () => {
      const { cpu, gpu } = devices();
      const refused: Array<Record<string, number>> = [{ cpu: 0, 'gpu:0': 0 }, {}, { other: 5 }, { cpu: -2 }];
      for (const shares of refused) {
        let error: unknown;
        try {
          new ChunkSizer('relu', 1000, 1, [cpu, gpu], new CostModel(), { policy: 'auto', shares });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ArgumentError);
        expect((error as ArgumentError).argument).toBe('shares');
        expect((error as Error).message).toMatch(/positive shares for some of cpu, gpu:0/);
      }
    });
  });
});
