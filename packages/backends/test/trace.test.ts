/**
 * td.trace() on real devices: a split over two CPU workers and the (software) GPU must show a
 * track per worker and one for the GPU queue, transfers as their own events, and tracks a trace
 * viewer can draw (every event timed, none overlapping another on its track).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tandem, WorkerPool } from '@tandem/core';
import { kernelCall, type RunEvent } from '@tandem/core/backend';
import { CpuBackend } from '../src/cpu/index.ts';
import { WebGpuBackend } from '../src/webgpu/index.ts';
import { expectClose, gpuOrSkip, random, tensor } from './harness.ts';
// Registers Tandem's backends, as `import '@tandem/backends'` does for a user.
import '../src/index.ts';

const gpu = await gpuOrSkip(async () => {
  const b = new WebGpuBackend();
  await b.init();
  await b.dispose();
});

interface TraceEvent {
  name: string;
  ph: string;
  cat?: string;
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  args: Record<string, unknown>;
}

/** The trace's tracks: for each (pid, tid), its process and thread names and its complete events. */
function tracks(events: readonly TraceEvent[]): Array<{ device: string; lane: string; events: TraceEvent[] }> {
  const processes = new Map(events.filter((e) => e.name === 'process_name').map((e) => [e.pid, String(e.args.name)]));
  return events.filter((e) => e.name === 'thread_name').map((t) => ({
    device: processes.get(t.pid)!,
    lane: String(t.args.name),
    events: events.filter((e) => e.ph === 'X' && e.pid === t.pid && e.tid === t.tid),
  }));
}

describe('what backends report of a run', () => {
  it('the CPU backend names the worker that computed each chunk, and its range', async () => {
    await using pool = new WorkerPool({ workers: 2 });
    await pool.ready();
    const cpu = new CpuBackend(pool);
    await cpu.init();
    const x = tensor(random(1 << 18, 1));
    const events: RunEvent[] = [];
    await cpu.run(kernelCall('exp', [x]), undefined, { observe: (e) => events.push(e) });
    const compute = events.filter((e) => e.kind === 'compute');
    expect(new Set(compute.map((e) => e.lane))).toEqual(new Set(['worker 0', 'worker 1']));
    // The chunks tile the range: sorted, each non-empty and starting where the previous ended.
    const ranges = compute.map((e) => e.range!).sort((a, b) => a.start - b.start);
    expect(ranges.length).toBeGreaterThan(1);
    let at = 0;
    for (const r of ranges) {
      expect(r.start, 'a gap or an overlap before this chunk').toBe(at);
      expect(r.end).toBeGreaterThan(r.start);
      at = r.end;
    }
    expect(at).toBe(1 << 18);
    for (const e of compute) expect(e.end).toBeGreaterThanOrEqual(e.start);
  });

  it.skipIf(!gpu.available)('the WebGPU backend reports its uploads, queue time and readback, with bytes', async () => {
    const webgpu = new WebGpuBackend();
    await webgpu.init();
    try {
      const n = 50_000;
      const x = tensor(random(n, 2));
      const y = tensor(random(n, 3));
      const events: RunEvent[] = [];
      const call = kernelCall('add', [x, y]);
      await webgpu.run(call, undefined, { observe: (e) => events.push(e) });
      expectClose(call.output.data, Array.from(x.data, (v, i) => Math.fround(v + y.data[i]!)), { rtol: 0, atol: 0 });
      const uploads = events.filter((e) => e.kind === 'upload');
      expect(uploads.map((e) => (e.kind === 'upload' ? e.bytes : 0))).toEqual([4 * n, 4 * n]);
      expect(events.filter((e) => e.kind === 'readback').map((e) => (e.kind === 'readback' ? e.bytes : 0))).toEqual([4 * n]);
      expect(events.filter((e) => e.kind === 'compute').map((e) => e.kind === 'compute' && e.lane)).toEqual(['queue']);
      // Inputs now resident: a second run uploads nothing.
      const again: RunEvent[] = [];
      await webgpu.run(kernelCall('add', [x, y]), undefined, { observe: (e) => again.push(e) });
      expect(again.filter((e) => e.kind === 'upload')).toEqual([]);
    } finally {
      await webgpu.dispose();
    }
  });
});

describe.skipIf(!gpu.available)('td.trace() of a split over CPU workers and the GPU', () => {
  let td: Tandem;
  let events: TraceEvent[];
  const dir = mkdtempSync(join(tmpdir(), 'tandem-trace-'));
  beforeAll(async () => {
    // eager: split whatever the models say (auto keeps ops whole between the CPU and a software GPU).
    td = await Tandem.create({ workers: 2, backends: ['cpu', 'webgpu'], costCache: false, policy: 'eager' });
    const x = tensor(random(1 << 20, 4));
    const y = tensor(random(1 << 20, 5));
    const out = await td.ops.exp(td.ops.add(x, y)).values();
    expectClose(out.subarray(0, 1000), Array.from(x.data.subarray(0, 1000), (v, i) => Math.exp(Math.fround(v + y.data[i]!))), { rtol: 1e-5, atol: 0 });
    const path = join(dir, 'trace.json');
    await td.trace(path);
    events = (JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  });
  afterAll(() => td?.close());

  it('has a track per CPU worker that ran chunks, and a GPU queue track', () => {
    const all = tracks(events);
    const workers = all.filter((t) => t.device === 'cpu' && /^worker \d+$/.test(t.lane) && t.events.length > 0);
    expect(workers.map((t) => t.lane).sort()).toEqual(['worker 0', 'worker 1']);
    for (const w of workers) for (const e of w.events) expect(e.cat).toBe('compute');
    const queue = all.find((t) => t.device === 'webgpu:0' && t.lane === 'queue');
    expect(queue?.events.length).toBeGreaterThan(0);
    // The executor's own view of each chunk stays on a `calls` track per device.
    expect(all.filter((t) => t.lane === 'calls').map((t) => t.device).sort()).toEqual(['cpu', 'webgpu:0']);
  });

  it('shows uploads and readbacks as transfer events with their bytes, on their own track', () => {
    const transfers = events.filter((e) => e.cat === 'transfer');
    expect(transfers.some((e) => e.name === 'upload')).toBe(true);
    expect(transfers.some((e) => e.name === 'readback')).toBe(true);
    for (const e of transfers) expect(e.args.bytes).toBeGreaterThan(0);
    const lanes = new Set(tracks(events).filter((t) => t.events.some((e) => e.cat === 'transfer')).map((t) => t.lane.replace(/ \(\d+\)$/, '')));
    expect(lanes).toEqual(new Set(['transfers']));
  });

  it('times every event and never overlaps two on one track', () => {
    const complete = events.filter((e) => e.ph === 'X');
    expect(complete.length).toBeGreaterThan(0);
    for (const e of complete) {
      expect(Number.isInteger(e.ts) && e.ts! >= 0).toBe(true);
      expect(Number.isInteger(e.dur) && e.dur! >= 1).toBe(true);
    }
    for (const t of tracks(events)) {
      const sorted = [...t.events].sort((a, b) => a.ts! - b.ts!);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.ts!).toBeGreaterThanOrEqual(sorted[i - 1]!.ts! + sorted[i - 1]!.dur!);
    }
  });

  it('keeps explain() counting each device once: busy time from the calls, lanes and transfers beside it', () => {
    const text = td.explain();
    const cpuLine = text.split('\n').find((l) => /^\s+cpu\s+\d+ pieces\s+busy/.test(l))!;
    const utilisation = Number(/utilisation\s+(\d+)%/.exec(cpuLine)![1]);
    expect(utilisation).toBeLessThanOrEqual(100);
    expect(text).toMatch(/worker 0 [\d.]+ ms · worker 1 [\d.]+ ms/);
    expect(text).toMatch(/transfers [\d.]+ ms \(\d+, [\d.]+ (KiB|MiB|B)\)/);
  });
});
