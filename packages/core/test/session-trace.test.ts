/**
 * explain(), trace() and replans() of a real Tandem session whose devices are FakeDevice test
 * doubles, registered as backends (planner and executor logic only; the real backends are traced
 * on real devices in @tandem/backends). The devices run side by side in fake time, so every time
 * the session reports can be checked against what the fakes were told to cost.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Tandem } from '../src/index.ts';
import { registerBackend, unregisterBackend } from '../src/backend/registry.ts';
import { FakeDevice, fakeClock, type FakeDeviceOptions } from './fixtures/fake-device.ts';
import { ramp } from './fixtures/fake-graph.ts';

// Large enough, on devices 2× apart, that a split pays for its chunks' fixed cost (0.5 fake ms a run).
const N = 1 << 20;
const registered: string[] = [];

/** Registers a FakeDevice backend named `name` (its device id too); `made()` is the instance a session opened. */
function fake(name: string, options: Omit<FakeDeviceOptions, 'overlap'>): { name: string; made(): FakeDevice } {
  let device: FakeDevice | undefined;
  registerBackend({ name, create: () => (device = new FakeDevice(name, { ...options, overlap: true })) });
  registered.push(name);
  return { name, made: () => device! };
}

async function open(...names: string[]): Promise<Tandem> {
  return Tandem.create({ workers: 1, backends: names, costCache: false });
}

/** explain()'s number format. */
const ms = (v: number) => (v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(2)} ms`);

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args: Record<string, unknown>;
}

beforeEach(() => {
  fakeClock.now = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => fakeClock.now);
});
afterEach(() => {
  vi.restoreAllMocks();
  for (const name of registered.splice(0)) unregisterBackend(name);
});

describe('explain()', () => {
  it('lists the pieces per device with predicted and measured times, sums them per kernel, and compares the makespan with one device', async () => {
    const cpu = fake('tcpu', { kind: 'cpu', msPerElement: 1e-4 });
    const gpu = fake('tgpu', { kind: 'gpu', msPerElement: 5e-5 });
    await using td = await open(cpu.name, gpu.name);
    expect(td.explain()).toBe('nothing has run on the devices yet');
    const x = ramp(N, 1);
    const r = td.ops.relu(x);
    const s = td.ops.add(x, 1);
    const [relu, sum] = await Promise.all([r.values(), s.values()]);
    let wrong = 0;
    for (let i = 0; i < N; i++) if (relu[i] !== Math.max(0, x.data[i]!) || sum[i] !== x.data[i]! + 1) wrong++;
    expect(wrong).toBe(0);
    const text = td.explain();
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^Last graph: 2 ops, \d+ pieces/);

    // The piece list: each split chunk with a prediction, and as measured exactly what the fake charged.
    const pieces = lines.map((l) => /^ {2}(tcpu|tgpu)\s+(relu|add)\[(\d+):(\d+)\)\s+(\S+ ms)\s+(\S+ ms)\s+/.exec(l)).filter((m) => m !== null);
    expect(pieces.length).toBeGreaterThan(4);
    expect(new Set(pieces.map((m) => m[1]))).toEqual(new Set(['tcpu', 'tgpu']));
    // The predictions are what the executor recorded for each chunk (its trace event's args).
    const file = join(mkdtempSync(join(tmpdir(), 'tandem-trace-')), 'trace.json');
    await td.trace(file);
    const events = (JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
    const pidOf = (device: string) => events.find((e) => e.name === 'process_name' && e.args.name === device)!.pid;
    for (const [, device, kernel, start, end, predicted, measured] of pieces) {
      const d = device === 'tcpu' ? cpu.made() : gpu.made();
      expect(measured).toBe(ms(d.cost(kernel!, Number(end) - Number(start))));
      const event = events.find((e) => e.ph === 'X' && e.cat === 'kernel' && e.pid === pidOf(device!) && e.name === `${kernel}[${start}:${end})`)!;
      expect(predicted).toBe(ms(event.args.predictedMs as number));
    }

    // The summary: one line per kernel (not per piece: every chunk has its own name) and device,
    // calibration apart, its pieces and elements those the devices ran.
    const summary = new Map(lines.map((l) => /^ {2}(\S+(?: \(calibration\))?) on (tcpu|tgpu)\s+(\d+) pieces\s+(\d+) elements/.exec(l))
      .filter((m) => m !== null).map((m) => [`${m[1]} on ${m[2]}`, { pieces: Number(m[3]), elements: Number(m[4]) }]));
    const groups = ['relu', 'add', 'relu (calibration)', 'add (calibration)'].flatMap((k) => [`${k} on tcpu`, `${k} on tgpu`]);
    expect(new Set(summary.keys())).toEqual(new Set(groups));
    for (const kernel of ['relu', 'add']) {
      let elements = 0;
      for (const f of [cpu, gpu]) {
        // Each device calibrated relu then add (12 slices each) before any chunk ran.
        const chunks = f.made().runs.slice(24).filter((run) => run.kernel === kernel);
        const row = summary.get(`${kernel} on ${f.name}`)!;
        expect(row.pieces).toBe(chunks.length);
        expect(row.elements).toBe(chunks.reduce((t, run) => t + run.range.end - run.range.start, 0));
        expect(summary.get(`${kernel} (calibration) on ${f.name}`)).toEqual({ pieces: 3, elements: N / 32 + N / 32 + N / 16 });
        elements += row.elements;
      }
      expect(elements).toBe(N);
    }

    // The makespan line: the faster device alone, as the model predicts the two ops on it.
    const makespanLine = lines.find((l) => l.startsWith('Makespan'))!;
    const m = /^Makespan (\S+ ms); the best single device, (\S+), was predicted to take (\S+ ms) \(([\d.]+)× the makespan\)$/.exec(makespanLine);
    expect(m).not.toBeNull();
    const alone = (d: string) => td.costs.predictKernel('relu', d, N)! + td.costs.predictKernel('add', d, N)!;
    expect(m![2]).toBe('tgpu');
    expect(alone('tgpu')).toBeLessThan(alone('tcpu'));
    expect(m![3]).toBe(ms(alone('tgpu')));
    const makespan = Number.parseFloat(m![1]!);
    expect(Number(m![4])).toBeCloseTo(alone('tgpu') / makespan, 1);
    // The graph began at fake time 0 (the fakes' uploads cost nothing) and the makespan is all the
    // fake time since: calibration (one device at a time), then the two splits.
    expect(m![1]).toBe(ms(fakeClock.now));
  });
});

describe('trace()', () => {
  it('writes Chrome trace JSON: a process per device, a track per lane, an X event per span and run', async () => {
    const cpu = fake('ucpu', { kind: 'cpu', msPerElement: 1e-4 });
    const gpu = fake('ugpu', { kind: 'gpu', msPerElement: 3e-5 });
    await using td = await open(cpu.name, gpu.name);
    const out = td.ops.relu(ramp(N, 2));
    await out.values();
    const file = join(mkdtempSync(join(tmpdir(), 'tandem-trace-')), 'trace.json');
    await td.trace(file);
    const trace = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[]; displayTimeUnit: string };
    expect(trace.displayTimeUnit).toBe('ms');
    const events = trace.traceEvents;

    // One process per device.
    const processes = events.filter((e) => e.ph === 'M' && e.name === 'process_name');
    expect(processes.map((e) => e.args.name).sort()).toEqual(['ucpu', 'ugpu']);
    expect(new Set(processes.map((e) => e.pid)).size).toBe(2);
    const pidOf = (device: string) => processes.find((e) => e.args.name === device)!.pid;
    const threads = events.filter((e) => e.ph === 'M' && e.name === 'thread_name');
    const lanes = (device: string) => threads.filter((e) => e.pid === pidOf(device)).map((e) => e.args.name);
    // The executor's calls; inside them the CPU's compute and the GPU's queue (a fake reports no activity of its own).
    expect(lanes('ucpu')).toEqual(['calls', 'compute']);
    expect(lanes('ugpu')).toEqual(['calls', 'queue']);

    // Every X event sits on a declared track, in whole µs, and events of one track do not overlap.
    const xs = events.filter((e) => e.ph === 'X');
    for (const e of xs) {
      expect(threads.some((t) => t.pid === e.pid && t.tid === e.tid)).toBe(true);
      expect(Number.isInteger(e.ts) && Number.isInteger(e.dur) && e.dur! >= 1).toBe(true);
    }
    for (const t of threads) {
      const mine = xs.filter((e) => e.pid === t.pid && e.tid === t.tid).sort((a, b) => a.ts! - b.ts!);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.ts!).toBeGreaterThanOrEqual(mine[i - 1]!.ts! + mine[i - 1]!.dur!);
    }

    // On each device's calls track: its three calibration passes, then one event per chunk it ran,
    // named by its range, with its elements, prediction and fake duration; the same chunks on its compute lane.
    for (const f of [cpu, gpu]) {
      const d = f.made();
      const track = (lane: string) => threads.find((t) => t.pid === pidOf(f.name) && t.args.name === lane)!.tid;
      const calls = xs.filter((e) => e.pid === pidOf(f.name) && e.tid === track('calls'));
      const chunks = d.runs.slice(12);
      expect(calls.map((e) => e.name)).toEqual([...Array(3).fill('relu (calibration)'), ...chunks.map((r) => `relu[${r.range.start}:${r.range.end})`)]);
      expect(calls.slice(0, 3).map((e) => e.args.elements)).toEqual([N / 32, N / 32, N / 16]);
      calls.slice(3).forEach((e, i) => {
        const elements = chunks[i]!.range.end - chunks[i]!.range.start;
        expect(e.cat).toBe('kernel');
        expect(e.args.elements).toBe(elements);
        expect(typeof e.args.predictedMs).toBe('number');
        expect(Math.abs(e.dur! - d.cost('relu', elements) * 1000)).toBeLessThanOrEqual(1);
      });
      const lane = xs.filter((e) => e.pid === pidOf(f.name) && e.tid === track(f === cpu ? 'compute' : 'queue'));
      expect(lane.map((e) => e.name)).toEqual(calls.slice(3).map((e) => e.name));
      expect(lane.every((e) => e.cat === 'compute')).toBe(true);
    }
    // The chunks of both devices tile the op.
    const ranges = [cpu, gpu].flatMap((f) => f.made().runs.slice(12).map((r) => r.range)).sort((a, b) => a.start - b.start);
    expect(ranges[0]!.start).toBe(0);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.start).toBe(ranges[i - 1]!.end);
    expect(ranges.at(-1)!.end).toBe(N);
  });
});

describe('replans() and explain() after a re-plan', () => {
  it('report the same re-plan, and nothing for a later graph whose plan held', async () => {
    const cpu = fake('vcpu', { kind: 'cpu', msPerElement: 1e-4 });
    // Five times slower than the CPU, but the model says 0.1 ms.
    const gpu = fake('vgpu', { kind: 'gpu', msPerElement: 1e-3 });
    await using td = await open(cpu.name, gpu.name);
    const SIZE = 4096;
    for (let i = 0; i < 4; i++) {
      td.costs.recordKernel('relu', 'vgpu', SIZE, 0.1);
      td.costs.recordKernel('relu', 'vcpu', SIZE, cpu.made().cost('relu', SIZE));
    }
    const inputs = Array.from({ length: 6 }, (_, i) => ramp(SIZE, i));
    const outs = inputs.map((x) => td.ops.relu(x));
    await Promise.all(outs.map((o) => o.values()));
    outs.forEach((o, k) => expect([...o.data]).toEqual([...inputs[k]!.data].map((v) => Math.max(0, v))));
    // Each op ran once.
    expect(cpu.made().calls.length + gpu.made().calls.length).toBe(6);

    const replans = td.replans();
    expect(replans).toHaveLength(1);
    const [r] = replans;
    expect(r!.reason).toBe('slower than predicted');
    expect(r!.after).toEqual({ node: 'op0', kernel: 'relu', device: 'vgpu' });
    expect(r!.moved.length).toBeGreaterThan(0);
    expect(r!.moved.every((m) => m.from === 'vgpu' && m.to === 'vcpu')).toBe(true);
    const text = td.explain();
    expect(text).toContain('Re-planned 1 time while running:');
    const moved = r!.moved.map((m) => `${m.node} (${m.kernel}) ${m.from} → ${m.to}`).join(', ');
    expect(text).toContain(`  after op0 (relu on vgpu: predicted ${ms(r!.predictedMs)}, measured ${ms(r!.measuredMs)}, slower than predicted): ${moved}`);
    expect(ms(r!.measuredMs)).toBe(ms(gpu.made().cost('relu', SIZE)));

    // Later graphs re-plan while the model still trusts the three wrong samples over the newer
    // right ones (a median), and stop once it has learned: then replans() and explain() say nothing.
    const perGraph: number[] = [];
    for (let graph = 0; graph < 5 && perGraph.at(-1) !== 0; graph++) {
      const again = inputs.slice(0, 2).map((x) => td.ops.relu(x));
      await Promise.all(again.map((o) => o.values()));
      perGraph.push(td.replans().length);
      if (td.replans().length > 0) expect(td.explain()).toContain('Re-planned 1 time while running:');
    }
    expect(perGraph.at(-1)).toBe(0);
    expect(perGraph.length).toBeLessThanOrEqual(4);
    expect(td.replans()).toEqual([]);
    expect(td.explain()).not.toContain('Re-planned');
  });
});
