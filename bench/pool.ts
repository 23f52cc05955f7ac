/**
 * Pool bench (issue #2): Tandem's worker pool against Piscina and a raw postMessage loop.
 *
 * 1. Tiny tasks (`x => x + 1`, 2 workers): closed loop, 64 in flight, per-task latency and
 *    tasks/s, for Tandem run() (coalesced), Tandem runMany (bulk), Tandem one task per message
 *    (maxBatch 1), Piscina run and a hand-written postMessage RPC.
 * 2. CPU-bound tasks (~20 ms of arithmetic each): Tandem runMany with 1 worker vs 2.
 *
 * Options: --reps N (5)  --tasks N (100000)  --in-flight N (64)  --warmup-tasks N (20000)
 *          --cpu-tasks N (200)  --cpu-ms N (20)  --cpu-reps N (5)
 */
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { Tandem } from '@tandem/core';
import { Piscina } from 'piscina';
import { int, ms, ratio, seconds } from './lib/format.ts';
import { closedLoop } from './lib/loop.ts';
import { describeLoad, watchLoad, type LoadReport } from './lib/load.ts';
import { machineInfo, describeMachine } from './lib/machine.ts';
import { alternate, type Peer } from './lib/repeat.ts';
import { writeReport, type Check, type Table } from './lib/report.ts';
import { latencySummary, median, summarize, type LatencySummary } from './lib/stats.ts';
import { calibrateSpin } from './lib/spin.ts';
import { spin } from './tasks/spin.ts';
import { positiveInt } from './lib/options.ts';

const INC_TS = new URL('./tasks/inc.ts', import.meta.url);
const INC_MJS = new URL('./tasks/inc.mjs', import.meta.url);
const RAW_WORKER = new URL('./tasks/raw-worker.mjs', import.meta.url);
const SPIN_TS = new URL('./tasks/spin.ts', import.meta.url);
const SPIN_WORKER = new URL('./tasks/spin-worker.mjs', import.meta.url);

const WORKERS = 2;
const TARGET_THROUGHPUT = 3;
const TARGET_SPEEDUP = 1.9;

interface TinyRun {
  readonly elapsedMs: number;
  readonly tasksPerSec: number;
  readonly latency: LatencySummary;
  /** Messages (batches) Tandem sent for this run; tasks per message = tasks / messages. */
  readonly messages: number | undefined;
}

/** id-tagged postMessage RPC over plain worker_threads, round-robin: the channel's own limit. */
class RawPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, (value: number) => void>();
  private nextId = 0;
  private rr = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(RAW_WORKER);
      w.on('message', (m: [number, number]) => {
        const resolve = this.pending.get(m[0])!;
        this.pending.delete(m[0]);
        resolve(m[1]);
      });
      w.on('error', (e) => {
        throw e;
      });
      this.workers.push(w);
    }
  }

  async ready(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.callOn(w, 0)));
  }

  run(x: number): Promise<number> {
    return this.callOn(this.workers[this.rr++ % this.workers.length]!, x);
  }

  private callOn(worker: Worker, x: number): Promise<number> {
    const id = this.nextId++;
    return new Promise<number>((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage([id, x]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Plain threads that each spin a share of the CPU tasks: what the machine itself gives in parallel. */
class SpinThreads {
  private readonly workers: Worker[] = [];

  private constructor() {}

  static async start(size: number): Promise<SpinThreads> {
    const t = new SpinThreads();
    for (let i = 0; i < size; i++) t.workers.push(new Worker(SPIN_WORKER));
    await Promise.all(t.workers.map((w) => new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    })));
    return t;
  }

  /** Runs `tasks` spins split evenly over the threads; resolves to the sum of results. */
  async run(iterations: number, tasks: number): Promise<number> {
    const n = this.workers.length;
    const sums = await Promise.all(this.workers.map((w, i) => new Promise<number>((resolve) => {
      w.once('message', resolve);
      w.postMessage([iterations, Math.floor(tasks / n) + (i < tasks % n ? 1 : 0)]);
    })));
    return sums.reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export default async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(['reps', 'tasks', 'in-flight', 'warmup-tasks', 'cpu-tasks', 'cpu-ms', 'cpu-reps'].map((k) => [k, { type: 'string' as const }])),
  });
  const settings = {
    workers: WORKERS,
    reps: positiveInt(values, 'reps', 5),
    tasks: positiveInt(values, 'tasks', 100_000),
    inFlight: positiveInt(values, 'in-flight', 64),
    warmupTasks: positiveInt(values, 'warmup-tasks', 20_000),
    cpuTasks: positiveInt(values, 'cpu-tasks', 200),
    cpuTaskMs: positiveInt(values, 'cpu-ms', 20),
    cpuReps: positiveInt(values, 'cpu-reps', 5),
  };
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  console.log(`pool bench on ${describeMachine(machine)}`);
  console.log(`settings: ${JSON.stringify(settings)}`);

  let watch = watchLoad();
  const tiny = await tinyTasks(settings);
  const tinyLoad = watch.stop();
  console.log(`  ${describeLoad(tinyLoad)}`);
  watch = watchLoad();
  const cpu = await cpuBound(settings);
  const cpuLoad = watch.stop();
  console.log(`  ${describeLoad(cpuLoad)}`);
  const noisy = (l: LoadReport) => l.otherCores > 0.25;

  const checks: Check[] = [
    {
      name: 'Tiny: Tandem run() coalesced, tasks/s vs Piscina',
      target: `≥ ${TARGET_THROUGHPUT}×`,
      measured: ratio(tiny.ratios.runThroughput),
      pass: tiny.ratios.runThroughput >= TARGET_THROUGHPUT,
    },
    {
      name: 'Tiny: Tandem run() coalesced, p99 vs Piscina',
      target: '≤ 1.00× (no worse)',
      measured: `${ratio(tiny.ratios.runP99)} (${ms(tiny.p99.run)} vs ${ms(tiny.p99.piscina)} ms)`,
      pass: tiny.ratios.runP99 <= 1,
    },
    {
      name: 'Tiny: Tandem runMany (throughput only), tasks/s vs Piscina',
      target: `≥ ${TARGET_THROUGHPUT}×`,
      measured: ratio(tiny.ratios.runManyThroughput),
      pass: tiny.ratios.runManyThroughput >= TARGET_THROUGHPUT,
    },
    {
      name: `CPU-bound: speedup of ${WORKERS} workers over 1`,
      target: `≥ ${TARGET_SPEEDUP}×`,
      measured: `${ratio(cpu.speedup)} (median; from min times ${ratio(cpu.speedupBest)}); machine ceiling ${ratio(cpu.ceiling)}`,
      pass: cpu.speedup >= TARGET_SPEEDUP,
    },
  ];

  await writeReport({
    bench: 'pool',
    title: 'Pool bench: Tandem vs Piscina vs raw postMessage',
    machine,
    startedAt,
    durationMs: performance.now() - t0,
    settings,
    tables: [
      { ...tiny.table, notes: [...(tiny.table.notes ?? []), describeLoad(tinyLoad)] },
      { ...cpu.table, notes: [...(cpu.table.notes ?? []), describeLoad(cpuLoad)] },
    ],
    checks,
    notes: [
      'Ratios are measured in this one run (peers alternate within each repetition after a warm-up round); compare ratios, not absolute numbers, across machines.',
      'A MISS is reported, not failed: timing targets are not unit-test assertions.',
      ...(noisy(tinyLoad) || noisy(cpuLoad)
        ? ['WARNING: other processes used a noticeable share of the CPU during this run (see the notes under each table); its numbers are noisy — rerun on a quiet machine.']
        : []),
    ],
    data: { tiny: tiny.data, cpu: cpu.data, load: { tiny: tinyLoad, cpu: cpuLoad } },
  });
  const misses = checks.filter((c) => !c.pass).length;
  console.log(`\n${checks.length - misses}/${checks.length} targets met${misses ? ` (${misses} MISS)` : ''}; total ${seconds(performance.now() - t0)}`);
}

async function tinyTasks(s: { reps: number; tasks: number; inFlight: number; warmupTasks: number }) {
  console.log(`\n== tiny tasks: x => x + 1, ${int(s.tasks)} tasks, ${WORKERS} workers, ${s.inFlight} in flight ==`);
  const [td, tdSolo, piscina, raw] = await Promise.all([
    Tandem.create({ workers: WORKERS, workerKind: 'thread', backends: [] }),
    Tandem.create({ workers: WORKERS, workerKind: 'thread', maxBatch: 1, backends: [] }),
    (async () => {
      const p = new Piscina<number, number>({ filename: INC_MJS.href, minThreads: WORKERS, maxThreads: WORKERS, idleTimeout: 60_000 });
      await Promise.all(Array.from({ length: WORKERS * 4 }, (_, i) => p.run(i)));
      return p;
    })(),
    (async () => {
      const r = new RawPool(WORKERS);
      await r.ready();
      return r;
    })(),
  ]);
  const argsList = Array.from({ length: s.tasks }, (_, i) => [i]);
  const verify = (i: number, v: unknown) => v === i + 1;

  const loopPeer = (id: string, submit: (i: number) => Promise<unknown>, batches?: () => number): Peer<TinyRun> => {
    const once = async (total: number): Promise<TinyRun> => {
      const before = batches?.();
      const r = await closedLoop(submit, { total, inFlight: s.inFlight, verify });
      if (r.wrong) throw new Error(`${id}: ${r.wrong} wrong results`);
      return { elapsedMs: r.elapsedMs, tasksPerSec: r.tasksPerSec, latency: latencySummary(r.latenciesMs), messages: batches ? batches() - before! : undefined };
    };
    return { id, run: () => once(s.tasks), warmup: () => once(s.warmupTasks) };
  };
  const runManyOnce = async (list: number[][]): Promise<TinyRun> => {
    const before = td.stats().tasks.batches;
    const latencies = new Float64Array(list.length);
    const start = performance.now();
    const results = await td.runMany<number>(INC_TS, 'inc', list, { onProgress: (done) => (latencies[done - 1] = performance.now() - start) });
    const elapsedMs = performance.now() - start;
    for (let i = 0; i < results.length; i++) if (results[i] !== i + 1) throw new Error(`runMany: wrong result at ${i}`);
    return { elapsedMs, tasksPerSec: (list.length / elapsedMs) * 1000, latency: latencySummary(latencies), messages: td.stats().tasks.batches - before };
  };

  const rows = [
    { id: 'tandem-run', label: 'Tandem run(), coalesced' },
    { id: 'tandem-runMany', label: 'Tandem runMany (bulk) †' },
    { id: 'tandem-solo', label: 'Tandem run(), maxBatch: 1' },
    { id: 'piscina', label: `Piscina ${Piscina.version} run` },
    { id: 'raw', label: 'raw postMessage loop (channel limit)' },
  ] as const;
  const peers: Peer<TinyRun>[] = [
    loopPeer('tandem-run', (i) => td.run<number>(INC_TS, 'inc', [i]), () => td.stats().tasks.batches),
    { id: 'tandem-runMany', run: () => runManyOnce(argsList), warmup: () => runManyOnce(argsList.slice(0, s.warmupTasks)) },
    loopPeer('tandem-solo', (i) => tdSolo.run<number>(INC_TS, 'inc', [i]), () => tdSolo.stats().tasks.batches),
    loopPeer('piscina', (i) => piscina.run(i)),
    loopPeer('raw', (i) => raw.run(i)),
  ];

  let results: Map<string, TinyRun[]>;
  try {
    results = await alternate(peers, {
      reps: s.reps,
      onWarmup: (id, t) => console.log(`  warm-up  ${id.padEnd(15)} ${seconds(t)}`),
      onResult: (id, rep, r) =>
        console.log(`  rep ${rep + 1}/${s.reps}  ${id.padEnd(15)} ${int(r.tasksPerSec).padStart(8)} tasks/s  p50 ${ms(r.latency.p50).padStart(6)} ms  p99 ${ms(r.latency.p99).padStart(6)} ms` +
          (r.messages ? `  ${(s.tasks / r.messages).toFixed(1)} tasks/msg` : '')),
    });
  } finally {
    await Promise.all([td.close(), tdSolo.close(), piscina.close(), raw.close()]);
  }

  const agg = (id: string) => {
    const runs = results.get(id)!;
    const tps = summarize(runs.map((r) => r.tasksPerSec));
    const time = summarize(runs.map((r) => r.elapsedMs));
    const p50 = median(runs.map((r) => r.latency.p50));
    const p99 = summarize(runs.map((r) => r.latency.p99));
    const msgs = runs.every((r) => r.messages !== undefined) ? median(runs.map((r) => r.messages!)) : undefined;
    return { tps, time, p50, p99, tasksPerMessage: msgs ? s.tasks / msgs : undefined };
  };
  const a = Object.fromEntries(rows.map((r) => [r.id, agg(r.id)])) as Record<(typeof rows)[number]['id'], ReturnType<typeof agg>>;
  const base = a.piscina;
  const table: Table = {
    title: `Tiny tasks: x => x + 1, ${int(s.tasks)} tasks, ${WORKERS} workers, ${s.inFlight} in flight (${s.reps} rep${s.reps === 1 ? '' : 's'})`,
    columns: ['Peer', 'tasks/s (median)', 'tasks/s (best)', 'time min', 'time median', 'p50 ms', 'p99 ms (median)', 'p99 ms (min)', 'tasks/msg', '× Piscina tasks/s', 'p99 ÷ Piscina'],
    rows: rows.map(({ id, label }) => {
      const x = a[id];
      return [label, int(x.tps.median), int(x.tps.max), seconds(x.time.min), seconds(x.time.median), ms(x.p50), ms(x.p99.median), ms(x.p99.min),
        x.tasksPerMessage === undefined ? '—' : x.tasksPerMessage.toFixed(1),
        ratio(x.tps.median / base.tps.median), ratio(x.p99.median / base.p99.median)];
    }),
    notes: [
      'Closed loop: each completion submits the next task; latency is per task, submit → resolve. p50/p99 are the median over repetitions of each repetition\'s percentile; "best" tasks/s comes from the fastest repetition (= min time).',
      `† runMany submits all ${int(s.tasks)} tasks at once (not a closed loop): its latency is mostly queueing time, shown for completeness, not comparable.`,
      'tasks/msg: tasks Tandem sent per worker message (median over repetitions); maxBatch: 1 sends each task alone (one Comlink RPC per task).',
      'Ratios use medians over repetitions.',
    ],
  };
  return {
    table,
    ratios: {
      runThroughput: a['tandem-run'].tps.median / base.tps.median,
      runP99: a['tandem-run'].p99.median / base.p99.median,
      runManyThroughput: a['tandem-runMany'].tps.median / base.tps.median,
    },
    p99: { run: a['tandem-run'].p99.median, piscina: base.p99.median },
    data: { aggregates: a, runs: Object.fromEntries(results) },
  };
}

async function cpuBound(s: { cpuTasks: number; cpuTaskMs: number; cpuReps: number }) {
  const { iterations, measuredMs } = calibrateSpin(s.cpuTaskMs);
  console.log(`\n== CPU-bound: ${s.cpuTasks} tasks of ~${s.cpuTaskMs} ms (spin ${int(iterations)} iterations = ${ms(measuredMs)} ms on the main thread), 1 vs ${WORKERS} workers ==`);
  const argsList = Array.from({ length: s.cpuTasks }, () => [iterations]);
  const expected = spin(iterations);
  const [one, two, raw1, raw2] = await Promise.all([
    Tandem.create({ workers: 1, backends: [] }), Tandem.create({ workers: WORKERS, backends: [] }), SpinThreads.start(1), SpinThreads.start(WORKERS),
  ]);
  // Warm-up runs a tenth of the tasks: enough to compile spin and learn its run time.
  const warmupTasks = Math.max(WORKERS * 2, Math.ceil(s.cpuTasks / 10));
  const once = (td: Tandem, tasks = s.cpuTasks) => async (): Promise<number> => {
    const t = performance.now();
    const r = await td.runMany<number>(SPIN_TS, 'spin', argsList.slice(0, tasks));
    const elapsed = performance.now() - t;
    if (r.some((v) => v !== expected)) throw new Error('spin: wrong result');
    return elapsed;
  };
  const onceRaw = (threads: SpinThreads, tasks = s.cpuTasks) => async (): Promise<number> => {
    const t = performance.now();
    const sum = await threads.run(iterations, tasks);
    const elapsed = performance.now() - t;
    if (Math.abs(sum - expected * tasks) > 1e-9 * Math.abs(expected * tasks)) throw new Error('spin threads: wrong result');
    return elapsed;
  };
  const ids = { t1: 'tandem 1w', t2: `tandem ${WORKERS}w`, r1: 'threads 1', r2: `threads ${WORKERS}` } as const;
  let results: Map<string, number[]>;
  let workerRunMs: number;
  try {
    results = await alternate<number>([
      { id: ids.t1, run: once(one), warmup: once(one, warmupTasks) },
      { id: ids.t2, run: once(two), warmup: once(two, warmupTasks) },
      { id: ids.r1, run: onceRaw(raw1), warmup: onceRaw(raw1, warmupTasks) },
      { id: ids.r2, run: onceRaw(raw2), warmup: onceRaw(raw2, warmupTasks) },
    ], {
      reps: s.cpuReps,
      onWarmup: (id, t) => console.log(`  warm-up  ${id.padEnd(10)} ${seconds(t)}`),
      onResult: (id, rep, t) => console.log(`  rep ${rep + 1}/${s.cpuReps}  ${id.padEnd(10)} ${seconds(t)}`),
    });
    workerRunMs = two.stats().runMs.p50;
  } finally {
    await Promise.all([one.close(), two.close(), raw1.close(), raw2.close()]);
  }
  const sum = (id: string) => summarize(results.get(id)!);
  const [t1, t2, r1, r2] = [sum(ids.t1), sum(ids.t2), sum(ids.r1), sum(ids.r2)];
  const speedup = t1.median / t2.median;
  const speedupBest = t1.min / t2.min;
  const ceiling = r1.median / r2.median;
  const ceilingBest = r1.min / r2.min;
  const ideal = (w: number) => (s.cpuTasks * measuredMs) / w;
  const row = (label: string, w: number, x: ReturnType<typeof summarize>, base: ReturnType<typeof summarize>) =>
    [label, seconds(x.min), seconds(x.median), seconds(ideal(w)), ms((s.cpuTasks / x.median) * 1000), ratio(base.median / x.median), ratio(base.min / x.min)];
  const table: Table = {
    title: `CPU-bound: ${s.cpuTasks} tasks × ~${s.cpuTaskMs} ms, Tandem runMany, 1 vs ${WORKERS} workers (${s.cpuReps} rep${s.cpuReps === 1 ? '' : 's'})`,
    columns: ['Peer', 'time min', 'time median', 'ideal', 'tasks/s (median)', 'speedup (median)', 'speedup (min)'],
    rows: [
      row('Tandem runMany, 1 worker', 1, t1, t1),
      row(`Tandem runMany, ${WORKERS} workers`, WORKERS, t2, t1),
      row('plain thread, 1 (machine ceiling)', 1, r1, r1),
      row(`plain threads, ${WORKERS} (machine ceiling)`, WORKERS, r2, r1),
    ],
    notes: [
      `Task: spin(${int(iterations)}) — an LCG feeding Math.sqrt, calibrated to ${ms(measuredMs)} ms on the main thread; p50 run time measured inside the ${WORKERS}-worker pool's workers: ${ms(workerRunMs)} ms.`,
      `Machine ceiling: the same spins split evenly over plain worker_threads, one message per thread (no pool, no per-task messages) — the most parallel speedup this machine gives in this run: ${ratio(ceiling)} (median). Tandem reaches ${(100 * speedup / ceiling).toFixed(0)}% of it.`,
      `ideal = tasks × calibrated task time ÷ workers, assuming ${WORKERS} truly parallel cores (the OS reports ${machineInfo().availableParallelism}).`,
    ],
  };
  return { table, speedup, speedupBest, ceiling, ceilingBest, data: { iterations, calibratedTaskMs: measuredMs, workerRunMsP50: workerRunMs, speedup, speedupBest, ceiling, ceilingBest, times: Object.fromEntries(results) } };
}
