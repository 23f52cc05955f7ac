/**
 * Planner bench (issue #4): a mixed workload under each placement policy — `auto`, `cpu`, `gpu`,
 * `eager` — against an oracle, the best static CPU/GPU split found by grid search, in one run.
 *
 * 1. A data-parallel user kernel: the Mandelbrot set, n×n (4096² by default), one `td.map` on a
 *    session of the cpu backend (2 workers) and gpujs. Oracle: static contiguous row splits, CPU
 *    share 0, 0.1, …, 1 (cpu.run and gpujs.run over their ranges, concurrently); the same grid
 *    through `runSplit(..., { shares })` is shown too, with the split it actually made.
 * 2. A DAG of built-in ops, issued in one turn: 4 × (matmul 512 → relu → sum) plus an add chain
 *    over the relus and its sum, on a session of cpu and webgpu. Oracle: static placements by
 *    hand (`{ device }` on every op): k of the chains on the GPU (k = 0…4) × the add chain and its
 *    sum on either device; all-cpu and all-gpu are two of those points.
 *
 * Every policy session starts from a fresh cost cache (a temp file) and gets `--warmup` runs
 * before the measured repetitions, in which the policies and the oracle alternate.
 *
 * Options: --reps N (5)  --warmup N (2)  --grid-reps N (3)  --finalists N (3: grid points re-measured
 *          alongside the policies; the oracle is the best of them)  --size N (4096)  --iter N (256)
 *          --matmul N (512)  --chains N (4)  --workers N (the cpu backend's workers; default: every core)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CostModel } from '@tandem/core/internal/planner/cost-model';
import { POLICIES, Tandem, WorkerPool, type Policy } from '@tandem/core';
import { runSplit } from '@tandem/core/internal/executor/split';
import { userCall, type Backend } from '@tandem/core/backend';
import { createBackend } from '@tandem/backends';
import { ratio, seconds } from './lib/format.ts';
import { describeLoad, watchLoad, type LoadReport } from './lib/load.ts';
import { describeMachine, machineInfo } from './lib/machine.ts';
import {
  dagError, dagInputs, dagReference, dagTensors, issueDag, mandelbrotArgs, mandelbrotKernel, pixelsOff, type DagPlacement,
} from './lib/planner-workload.ts';
import { foldColdAuto, policyPeers } from './lib/cold-auto.ts';
import { alternate, type Peer } from './lib/repeat.ts';
import { writeReport, type Check, type Table } from './lib/report.ts';
import { median, summarize, type Summary } from './lib/stats.ts';
import { positiveInt } from './lib/options.ts';

/** The cpu backend's workers: every core unless `--workers` says otherwise. */
let WORKERS = availableParallelism();
const TARGET_VS_ORACLE = 1.1;
const WITHIN = 4;
const ORACLE = 'oracle';
const CPU = 'cpu';
const GPUJS = 'gpujs:0';
const WEBGPU = 'webgpu:0';
/** Pixels allowed to differ from the CPU image (float32 on the GPU vs float64 in the workers, on the set's boundary). */
const MAX_PIXELS_OFF = 0.01;
const MAX_DAG_ERROR = 1e-3;

type Settings = {
  readonly workers: number;
  readonly reps: number;
  readonly warmup: number;
  readonly gridReps: number;
  readonly size: number;
  readonly maxIter: number;
  readonly matmul: number;
  readonly chains: number;
  readonly finalists: number;
  /** Auto sessions, each from a fresh cost cache; the targets are judged on the worst. */
  readonly cold: number;
};

/** One span of a session's trace: a whole op on one device, or one chunk of a split. */
interface TraceSpan {
  readonly device: string;
  readonly kernel: string;
  readonly elements: number;
  readonly ms: number;
  readonly failed: boolean;
}

/** One measured run of a peer. */
interface Run {
  readonly ms: number;
  /** Elements computed per device, per kernel (from the session's trace; the oracle's are its static split). */
  readonly elements: Record<string, Record<string, number>>;
  /** Pieces (whole ops or chunks) this run was cut into. */
  readonly pieces: number;
  /** Result check: fraction of pixels off (kernel) or largest relative error (DAG). */
  readonly error: number;
}

/** The oracle's summary: the fastest by median among `ids` (the static finalists and the single-device policies). */
function oracleOf(summary: ReadonlyMap<string, Summary>, ids: readonly string[]): Summary {
  return ids.map((id) => summary.get(id)!).reduce((a, b) => (b.median < a.median ? b : a));
}

/**
 * Reads what a session ran since the last call, from its Chrome trace (`td.trace`), outside the
 * timed region: the executor's spans (category 'kernel', a process per device), which the trace
 * lists per device rather than in time order, so new ones are told apart by identity.
 */
class TraceReader {
  private readonly seen = new Set<string>();
  constructor(private readonly td: Tandem, private readonly path: string) {}

  async next(): Promise<TraceSpan[]> {
    await this.td.trace(this.path);
    const trace = JSON.parse(await readFile(this.path, 'utf8')) as { traceEvents: Array<{ ph: string; name: string; cat?: string; pid?: number; tid?: number; ts?: number; dur?: number; args?: Record<string, unknown> }> };
    const devices = new Map<number, string>();
    const fresh: TraceSpan[] = [];
    for (const e of trace.traceEvents) {
      if (e.ph === 'M' && e.name === 'process_name') devices.set(e.pid!, String(e.args?.name));
      else if (e.ph === 'X' && e.cat === 'kernel' && e.args?.calibration !== true) {
        const key = `${e.pid}/${e.tid}/${e.ts}/${e.name}`;
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        const i = e.name.indexOf('[');
        fresh.push({
          device: devices.get(e.pid!) ?? '?',
          kernel: i < 0 ? e.name : e.name.slice(0, i),
          elements: typeof e.args?.elements === 'number' ? e.args.elements : 0,
          ms: (e.dur ?? 0) / 1000,
          failed: e.args?.error !== undefined,
        });
      }
    }
    return fresh;
  }
}

function elementsOf(spans: readonly TraceSpan[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of spans) {
    if (s.failed) continue;
    const k = (out[s.kernel] ??= {});
    k[s.device] = (k[s.device] ?? 0) + s.elements;
  }
  return out;
}

/** Fraction of `kernel`'s elements (all kernels when undefined) that ran on `device`. */
function shareOn(run: Run, device: string, kernel?: string): number {
  let on = 0;
  let all = 0;
  for (const [k, byDevice] of Object.entries(run.elements)) {
    if (kernel !== undefined && k !== kernel) continue;
    for (const [d, n] of Object.entries(byDevice)) {
      all += n;
      if (d === device) on += n;
    }
  }
  return all > 0 ? on / all : Number.NaN;
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : '—');

function printRun(id: string, rep: number, r: Run, extra = ''): void {
  console.log(`  ${rep < 0 ? 'warm-up ' : `rep ${rep + 1}`.padEnd(8)} ${id.padEnd(22)} ${seconds(r.ms).padStart(8)}  ${String(r.pieces).padStart(4)} pieces${extra}`);
}

export default async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(['reps', 'warmup', 'grid-reps', 'finalists', 'size', 'iter', 'matmul', 'chains', 'cold', 'workers'].map((k) => [k, { type: 'string' as const }])),
  });
  WORKERS = positiveInt(values, 'workers', WORKERS);
  const settings: Settings = {
    workers: WORKERS,
    reps: positiveInt(values, 'reps', 5),
    warmup: positiveInt(values, 'warmup', 2),
    gridReps: positiveInt(values, 'grid-reps', 3),
    size: positiveInt(values, 'size', 4096),
    maxIter: positiveInt(values, 'iter', 256),
    matmul: positiveInt(values, 'matmul', 512),
    chains: positiveInt(values, 'chains', 4),
    finalists: positiveInt(values, 'finalists', 3),
    cold: positiveInt(values, 'cold', 3),
  };
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const tmp = mkdtempSync(join(tmpdir(), 'tandem-planner-bench-'));
  try {
    let watch = watchLoad();
    const k = await kernelPart(settings, tmp);
    const kernelLoad = watch.stop();
    console.log(`  ${describeLoad(kernelLoad)}`);
    watch = watchLoad();
    const d = await dagPart(settings, tmp);
    const dagLoad = watch.stop();
    console.log(`  ${describeLoad(dagLoad)}`);

    const machine = machineInfo(d.gpu.description);
    const software = d.gpu.software || k.gpu.software;

    // The mixed workload: both parts, one after the other, per policy.
    // 'auto' is the worst of the cold auto sessions (by median) in each part.
    const ids = [...POLICIES, ORACLE];
    const total = (id: string) => k.summary.get(id)!.median + d.summary.get(id)!.median;
    const totalMin = (id: string) => k.summary.get(id)!.min + d.summary.get(id)!.min;
    const mixedRatio = total(CPU) > total('gpu') ? total(CPU) / total('gpu') : total('gpu') / total(CPU);
    const mixed: Table = {
      title: 'Mixed workload: the user kernel then the DAG, per policy (sum of the two parts)',
      columns: ['Policy', 'kernel median', 'DAG median', 'total (medians)', 'total (mins)', '× oracle (median)'],
      rows: ids.map((id) => [id === ORACLE ? 'oracle (best static)' : id === 'auto' ? `auto (worst of ${settings.cold} cold sessions per part)` : id, seconds(k.summary.get(id)!.median), seconds(d.summary.get(id)!.median),
        seconds(total(id)), seconds(totalMin(id)), ratio(total(id) / total(ORACLE))]),
      notes: [`The two parts were measured separately (each with its own sessions); totals add their medians (or mins). cpu-only vs gpu-only totals: ${ratio(mixedRatio)} apart.`],
    };

    const fasterThanBoth = (s: Map<string, Summary>) => s.get('auto')!.median < s.get(CPU)!.median && s.get('auto')!.median < s.get('gpu')!.median;
    const vsBoth = (s: Map<string, Summary>) => `auto ${seconds(s.get('auto')!.median)} vs cpu ${seconds(s.get(CPU)!.median)}, gpu ${seconds(s.get('gpu')!.median)} (medians)`;
    const checks: Check[] = [
      {
        name: `Mandelbrot ${k.label}: auto vs oracle (best static split)`,
        target: `≤ ${TARGET_VS_ORACLE.toFixed(2)}×`,
        measured: `${ratio(k.autoVsOracle)} (${seconds(k.summary.get('auto')!.median)} vs ${seconds(k.summary.get(ORACLE)!.median)}, auto: worst of ${settings.cold} cold sessions, ${k.cold.worstId}, by median; oracle median); auto gave the CPU ${pct(k.autoCpuShare)} of the pixels, the oracle ${pct(k.best)}`,
        pass: k.autoVsOracle <= TARGET_VS_ORACLE,
      },
      {
        name: `Mandelbrot ${k.label}: auto faster than cpu alone and gpu alone`,
        target: `both, when the devices are within ${WITHIN}× of each other`,
        measured: `${vsBoth(k.summary)}; devices ${ratio(k.deviceRatio)} apart${k.deviceRatio > WITHIN ? ` — N/A: more than ${WITHIN}× apart` : ''}`,
        pass: fasterThanBoth(k.summary),
        applies: k.deviceRatio <= WITHIN,
      },
      {
        name: `DAG (${d.label}): auto vs oracle (best static placement)`,
        target: `≤ ${TARGET_VS_ORACLE.toFixed(2)}×`,
        measured: `${ratio(d.autoVsOracle)} (${seconds(d.summary.get('auto')!.median)} vs ${seconds(d.summary.get(ORACLE)!.median)}, auto: worst of ${settings.cold} cold sessions, ${d.cold.worstId}, by median; oracle median); auto ran ${pct(d.autoGpuMatmulShare)} of the matmul rows on the GPU, the oracle ${pct(d.best.gpuChains / settings.chains)}`,
        pass: d.autoVsOracle <= TARGET_VS_ORACLE,
      },
      {
        name: `DAG (${d.label}): auto faster than cpu alone and gpu alone`,
        target: `both, when the devices are within ${WITHIN}× of each other`,
        measured: `${vsBoth(d.summary)}; devices ${ratio(d.deviceRatio)} apart${d.deviceRatio > WITHIN ? ` — N/A: more than ${WITHIN}× apart` : ''}`,
        pass: fasterThanBoth(d.summary),
        applies: d.deviceRatio <= WITHIN,
      },
      {
        name: 'Mixed workload (both parts): auto vs oracle',
        target: `≤ ${TARGET_VS_ORACLE.toFixed(2)}×`,
        measured: `${ratio(total('auto') / total(ORACLE))} (${seconds(total('auto'))} vs ${seconds(total(ORACLE))})`,
        pass: total('auto') / total(ORACLE) <= TARGET_VS_ORACLE,
      },
      {
        name: 'Mixed workload (both parts): auto faster than cpu alone and gpu alone',
        target: `both, when cpu-only and gpu-only totals are within ${WITHIN}×`,
        measured: `auto ${seconds(total('auto'))} vs cpu ${seconds(total(CPU))}, gpu ${seconds(total('gpu'))}; totals ${ratio(mixedRatio)} apart${mixedRatio > WITHIN ? ` — N/A: more than ${WITHIN}× apart` : ''}`,
        pass: total('auto') < total(CPU) && total('auto') < total('gpu'),
        applies: mixedRatio <= WITHIN,
      },
    ];

    const noisy = (l: LoadReport) => l.otherCores > 0.25;
    await writeReport({
      bench: 'planner',
      title: 'Planner bench: auto / cpu / gpu / eager placement vs the best static split',
      machine,
      startedAt,
      durationMs: performance.now() - t0,
      settings,
      tables: [
        {
          title: 'Single-device speed, measured first (grid points: the raw backends at CPU share 1.0 / 0.0; the DAG all on cpu / all on webgpu)',
          columns: ['Part', 'cpu alone (median)', 'gpu alone (median)', 'slower ÷ faster', `within ${WITHIN}×`],
          rows: [k.speedRow, d.speedRow],
          notes: [`The "faster than both cpu and gpu" targets apply only where the two devices are within ${WITHIN}× of each other.`],
        },
        k.grid,
        { ...k.table, notes: [...(k.table.notes ?? []), describeLoad(kernelLoad)] },
        k.cold.table,
        d.grid,
        { ...d.table, notes: [...(d.table.notes ?? []), describeLoad(dagLoad)] },
        d.cold.table,
        mixed,
      ],
      checks,
      notes: [
        ...(software
          ? [`The GPU here is lavapipe, a software Vulkan driver (${d.gpu.description}): its "GPU" work runs on the same ${machine.cores} CPU cores as the ${WORKERS} workers. A split adds no compute, only contention — both devices slow down when they run together — so the most a split can gain is what one engine does better per core than the other${k.splitGain ? `: here the best static split of the kernel that used both devices (CPU share ${k.splitGain.share.toFixed(1)}) took ${seconds(k.splitGain.ms)} against ${seconds(k.splitGain.fasterAloneMs)} for the faster device alone (${ratio(k.splitGain.fasterAloneMs / k.splitGain.ms)} speedup; medians of the final round)` : ''}. The "faster than both" targets mostly measure the cost of splitting, not the use of a second device; on a real GPU they would measure the planner.`]
          : []),
        `Each policy ran on its own session (cpu + gpujs for the kernel, cpu + webgpu for the DAG: webgpu runs built-in ops only, gpujs also user kernels) with a fresh cost cache in a temp directory, and ${settings.warmup} warm-up run${settings.warmup === 1 ? '' : 's'} before the ${settings.reps} measured repetitions (the first warm-up of auto has no model: it calibrates each device on a few spread slices of the op first, then places it). Every run also feeds the model, so auto keeps learning during the repetitions.`,
        'Peers (policies and oracle) alternate within each repetition, the starting peer rotating; ratios are from medians of this run. A MISS is reported, not failed.',
        'A run is timed from the call (td.map, or issuing every op of the DAG in one turn) to the result in host memory; the per-device split is read from the session\'s trace afterwards (td.trace), untimed.',
        ...(noisy(kernelLoad) || noisy(dagLoad)
          ? ['WARNING: other processes used a noticeable share of the CPU during this run (see the notes under the tables); its numbers are noisy — rerun on a quiet machine.']
          : []),
      ],
      data: { kernel: { ...k.data, cold: k.cold.data }, dag: { ...d.data, cold: d.cold.data }, load: { kernel: kernelLoad, dag: dagLoad }, gpu: { gpujs: k.gpu, webgpu: d.gpu } },
    });
    const applicable = checks.filter((c) => c.applies !== false);
    const misses = applicable.filter((c) => !c.pass).length;
    console.log(`\n${applicable.length - misses}/${applicable.length} applicable targets met${misses ? ` (${misses} MISS)` : ''}, ${checks.length - applicable.length} N/A; total ${seconds(performance.now() - t0)}`);
    console.log(`machine: ${describeMachine(machine)}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Part 1: the Mandelbrot user kernel. */
async function kernelPart(s: Settings, tmp: string) {
  const n = s.size;
  const label = `${n}², ${s.maxIter} iterations`;
  console.log(`\n== user kernel: Mandelbrot ${label}, cpu (${WORKERS} workers) + gpujs ==`);
  const k = mandelbrotKernel(s.maxIter);
  const args = mandelbrotArgs(n);
  const call = () => userCall(k, args, [n, n]);

  // Raw backends for the reference image and the static splits.
  const pool = new WorkerPool({ workers: WORKERS });
  const backends: Backend[] = [];
  const sessions = new Map<string, Tandem>();
  try {
    await pool.ready();
    backends.push(await createBackend('cpu', { pool }), await createBackend('gpujs'));
    await Promise.all(backends.map((b) => b.init()));
    const [cpu, gpu] = backends as [Backend, Backend];
    const gpuDevice = { description: gpu.device.description, software: gpu.device.software };
    console.log(`  gpu: ${gpu.device.description}`);

    let t = performance.now();
    const ref = call();
    await cpu.run(ref);
    const reference = ref.output.data as Float32Array;
    const firstCpu = performance.now() - t;
    t = performance.now();
    const g = call();
    await gpu.run(g);
    const firstGpu = performance.now() - t;
    console.log(`  first runs (compile): cpu ${seconds(firstCpu)}, gpujs ${seconds(firstGpu)}; gpujs vs cpu image: ${pct(pixelsOff(reference, g.output.data) / (n * n))} of pixels off`);

    /** Rows [0, r) on the CPU, [r, n) on the GPU, concurrently. */
    const staticSplit = async (share: number): Promise<Run> => {
      const r = Math.round(share * n);
      const c = call();
      const start = performance.now();
      await Promise.all([r > 0 ? cpu.run(c, { start: 0, end: r * n }) : undefined, r < n ? gpu.run(c, { start: r * n, end: n * n }) : undefined]);
      const elapsed = performance.now() - start;
      return {
        ms: elapsed,
        elements: { user: { [CPU]: r * n, [GPUJS]: (n - r) * n } },
        pieces: (r > 0 ? 1 : 0) + (r < n ? 1 : 0),
        error: pixelsOff(reference, c.output.data) / (n * n),
      };
    };
    /** runSplit with fixed shares: chunk sizes follow the shares, but a device that finishes early takes more. */
    const sharedSplit = async (share: number): Promise<Run> => {
      const c = call();
      const start = performance.now();
      const records = await runSplit(c, [cpu, gpu], new CostModel(), { policy: 'auto', shares: { [CPU]: share, [GPUJS]: 1 - share } });
      const elapsed = performance.now() - start;
      const byDevice: Record<string, number> = {};
      for (const rec of records) if (rec.ok) byDevice[rec.device] = (byDevice[rec.device] ?? 0) + rec.range.end - rec.range.start;
      return { ms: elapsed, elements: { user: byDevice }, pieces: records.length, error: pixelsOff(reference, c.output.data) / (n * n) };
    };

    // Grid search. Share 0 and 1 are the single devices: the speed ratio comes from them.
    const shares = Array.from({ length: 11 }, (_, i) => i / 10);
    const inner = shares.filter((x) => x > 0 && x < 1);
    console.log(`  grid: static CPU shares ${shares.join(', ')} and runSplit shares ${inner.join(', ')}, ${s.gridReps} rep(s) each`);
    const grid = await alternate<Run>([
      ...shares.map((x): Peer<Run> => ({ id: `static ${x.toFixed(1)}`, run: () => staticSplit(x) })),
      ...inner.map((x): Peer<Run> => ({ id: `shares ${x.toFixed(1)}`, run: () => sharedSplit(x) })),
    ], {
      reps: s.gridReps,
      warmupRounds: 0,
      onResult: (id, rep, r) => printRun(id, rep, r, `  cpu share ${pct(shareOn(r, CPU))}`),
    });
    const gridMedian = (id: string) => median(grid.get(id)!.map((r) => r.ms));
    const staticId = (x: number) => `static ${x.toFixed(1)}`;
    // The best shares by grid median go to the final round, measured alongside the policies.
    const finalists = [...shares].sort((a, b) => gridMedian(staticId(a)) - gridMedian(staticId(b))).slice(0, s.finalists);
    const cpuAlone = median(grid.get('static 1.0')!.map((r) => r.ms));
    const gpuAlone = median(grid.get('static 0.0')!.map((r) => r.ms));
    const deviceRatio = Math.max(cpuAlone, gpuAlone) / Math.min(cpuAlone, gpuAlone);
    console.log(`  single devices: cpu ${seconds(cpuAlone)}, gpujs ${seconds(gpuAlone)} → ${ratio(deviceRatio)} apart; best static CPU shares (grid medians): ${finalists.map((x) => `${x.toFixed(1)} (${seconds(gridMedian(staticId(x)))})`).join(', ')}`);

    // One session per policy, each with a fresh cost cache.
    const peers = policyPeers(s.cold);
    for (const { id, policy } of peers) {
      sessions.set(id, await Tandem.create({ workers: WORKERS, backends: ['cpu', 'gpujs'], policy, costCache: join(tmp, `kernel-${id}.json`) }));
    }
    const policyPeer = (id: string): Peer<Run> => {
      const td = sessions.get(id)!;
      const reader = new TraceReader(td, join(tmp, `kernel-${id}.trace.json`));
      return {
        id,
        async run() {
          const start = performance.now();
          const out = await td.map(k, args, { output: [n, n] });
          const elapsed = performance.now() - start;
          const spans = await reader.next();
          return { ms: elapsed, elements: elementsOf(spans), pieces: spans.length, error: pixelsOff(reference, out.data) / (n * n) };
        },
      };
    };
    console.log(`  policies ${POLICIES.join(', ')} and the oracle's finalists (static CPU shares ${finalists.map((x) => x.toFixed(1)).join(', ')}): ${s.warmup} warm-up round(s), ${s.reps} reps`);
    const warmups = new Map<string, number[]>();
    const onWarmup = (id: string, elapsed: number) => {
      warmups.set(id, [...(warmups.get(id) ?? []), elapsed]);
      console.log(`  warm-up  ${id.padEnd(22)} ${seconds(elapsed).padStart(8)}`);
    };
    const results = await alternate<Run>([...peers.map((p) => policyPeer(p.id)), ...finalists.map((x): Peer<Run> => ({ id: staticId(x), run: () => staticSplit(x) }))], {
      reps: s.reps,
      warmupRounds: s.warmup,
      onWarmup,
      onResult: (id, rep, r) => printRun(id, rep, r, `  cpu share ${pct(shareOn(r, CPU))}`),
    });
    const autoExplain = sessions.get('auto#1')!.explain();
    console.log(`\n  td.explain() of the auto session after its last run:\n${autoExplain.replace(/^/gm, '    ')}\n`);

    const summary = new Map([...results].map(([id, runs]) => [id, summarize(runs.map((r) => r.ms))]));
    const cold = foldColdAuto(results, warmups, oracleOf(summary, [...finalists.map(staticId), CPU, 'gpu']), `Mandelbrot ${label}: auto from ${s.cold} cold caches`);
    summary.set('auto', summary.get(cold.worstId)!);
    // The oracle: the best static split in the final round — a finalist, or a single device (the
    // cpu and gpu policies are the static shares 1.0 and 0.0, measured through the session).
    const shareOf = (id: string) => (id === CPU ? 1 : id === 'gpu' ? 0 : Number(id.slice('static '.length)));
    const oracleId = [...finalists.map(staticId), CPU, 'gpu'].reduce((a, b) => (summary.get(b)!.median < summary.get(a)!.median ? b : a));
    const best = shareOf(oracleId);
    const oracle = summary.get(oracleId)!;
    summary.set(ORACLE, oracle);
    results.set(ORACLE, results.get(oracleId)!);
    // What splitting gained at best: the fastest finalist that uses both devices against the faster device alone.
    const splits = finalists.filter((x) => x > 0 && x < 1);
    const bestSplit = splits.length ? splits.reduce((a, b) => (summary.get(staticId(b))!.median < summary.get(staticId(a))!.median ? b : a)) : undefined;
    const fasterAlone = Math.min(summary.get(CPU)!.median, summary.get('gpu')!.median);
    const autoCpuShare = median(results.get('auto')!.map((r) => shareOn(r, CPU)));
    const worstError = (runs: readonly Run[]) => Math.max(...runs.map((r) => r.error));

    const gridTable: Table = {
      title: `Mandelbrot ${label}: grid search over the CPU's share of the rows (${s.gridReps} rep${s.gridReps === 1 ? '' : 's'} each)`,
      columns: ['CPU share', 'static: min', 'static: median', 'runSplit shares: min', 'runSplit shares: median', 'runSplit: CPU share it actually ran'],
      rows: shares.map((x) => {
        const st = summarize(grid.get(`static ${x.toFixed(1)}`)!.map((r) => r.ms));
        const sh = grid.get(`shares ${x.toFixed(1)}`);
        const shs = sh ? summarize(sh.map((r) => r.ms)) : undefined;
        const mark = x === best ? (oracleId.startsWith('static') ? ' (oracle)' : ` (= oracle, as the ${oracleId} policy)`) : '';
        return [`${x.toFixed(1)}${mark}${finalists.includes(x) && oracleId !== staticId(x) ? ' (finalist)' : ''}`, seconds(st.min), seconds(st.median), shs ? seconds(shs.min) : '—', shs ? seconds(shs.median) : '—',
          sh ? pct(median(sh.map((r) => shareOn(r, CPU)))) : '—'];
      }),
      notes: [
        `static: rows [0, share·n) on the CPU and the rest on gpujs, started together (cpu.run and gpujs.run over those ranges). The ${s.finalists} shares with the lowest median here (finalists) are measured again alongside the policies; the oracle is the lowest median there among the finalists and the single-device policies cpu and gpu (themselves the static shares 1.0 and 0.0).`,
        'runSplit shares: runSplit(call, [cpu, gpujs], model, { policy: "auto", shares: { cpu: share, "gpujs:0": 1 − share } }). The shares set each device\'s chunk sizes, but chunks are still handed out by guided self-scheduling (a device that finishes early takes the next), so the split it makes drifts away from the shares (last column): it is not a static split, hence the separate static grid. Share 0 and 1 are omitted: a zero share still takes 1-row chunks.',
      ],
    };
    const table: Table = {
      title: `Mandelbrot ${label}: policies vs the oracle (${s.reps} reps)`,
      columns: ['Policy', 'min', 'median', '× oracle (median)', '× oracle (min)', 'CPU share of pixels (median)', 'pieces/run', 'pixels off (worst)'],
      rows: [...peers.map((p) => p.id), ...finalists.map(staticId)].map((id) => {
        const x = summary.get(id)!;
        const runs = results.get(id)!;
        return [id === oracleId ? `${id} = oracle` : id, seconds(x.min), seconds(x.median), ratio(x.median / oracle.median), ratio(x.min / oracle.min),
          pct(median(runs.map((r) => shareOn(r, CPU)))), String(median(runs.map((r) => r.pieces))), `${(100 * worstError(runs)).toFixed(2)}%`];
      }),
      notes: [
        `CPU share of pixels: elements each device computed in the run (from the trace's chunk records), CPU ÷ all. The oracle's is its static row split. "pixels off": pixels more than 1e-3 from the CPU-only image (float32 on the GPU vs float64 in the workers differ on the set's boundary); up to ${100 * MAX_PIXELS_OFF}% is expected.`,
      ],
    };
    for (const [id, runs] of results) if (id !== ORACLE && worstError(runs) > MAX_PIXELS_OFF) (table.notes as string[]).push(`WRONG RESULT: ${id} had ${pct(worstError(runs))} of pixels off.`);

    return {
      label,
      gpu: gpuDevice,
      summary,
      best,
      deviceRatio,
      autoCpuShare,
      autoVsOracle: summary.get('auto')!.median / oracle.median,
      cold,
      splitGain: bestSplit === undefined ? undefined : { share: bestSplit, ms: summary.get(staticId(bestSplit))!.median, fasterAloneMs: fasterAlone },
      speedRow: [`Mandelbrot ${label}`, seconds(cpuAlone), seconds(gpuAlone), ratio(deviceRatio), deviceRatio <= WITHIN ? 'yes' : 'no'],
      grid: gridTable,
      table,
      data: {
        firstRunMs: { cpu: firstCpu, gpujs: firstGpu },
        singleDevice: { cpuMs: cpuAlone, gpuMs: gpuAlone, ratio: deviceRatio },
        oracle: { id: oracleId, cpuShare: best },
        grid: Object.fromEntries(grid),
        runs: Object.fromEntries(results),
        autoExplain,
      },
    };
  } finally {
    await Promise.all([...sessions.values()].map((td) => td.close()));
    await Promise.all(backends.map((b) => b.dispose().catch(() => undefined)));
    await pool.close();
  }
}

/** Part 2: the DAG of built-in ops. */
async function dagPart(s: Settings, tmp: string) {
  const n = s.matmul;
  const label = `${s.chains} × (matmul ${n} → relu → sum) + add chain → sum`;
  console.log(`\n== DAG: ${label}, cpu (${WORKERS} workers) + webgpu ==`);
  const inputs = dagInputs(n, s.chains);
  let t = performance.now();
  const reference = dagReference(inputs);
  console.log(`  float64 reference in ${seconds(performance.now() - t)}`);

  const sessions = new Map<string, Tandem>();
  try {
    const peers = policyPeers(s.cold);
    for (const { id, policy } of [...peers, { id: ORACLE, policy: 'auto' as Policy }]) {
      sessions.set(id, await Tandem.create({ workers: WORKERS, backends: ['cpu', 'webgpu'], policy, costCache: join(tmp, `dag-${id}.json`) }));
    }
    const webgpu = sessions.get(ORACLE)!.devices().find((d) => d.id === WEBGPU)!;
    const gpuDevice = { description: webgpu.description, software: webgpu.software };

    // One set of input tensors and one trace reader per session (the grid's placements share the oracle's).
    const perSession = new Map([...sessions].map(([id, td]) => [id, { tensors: dagTensors(inputs), reader: new TraceReader(td, join(tmp, `dag-${id}.trace.json`)) }]));
    const peer = (id: string, session: string, placement?: DagPlacement): Peer<Run> => {
      const td = sessions.get(session)!;
      const { tensors, reader } = perSession.get(session)!;
      return {
        id,
        async run() {
          const start = performance.now();
          const { outputs } = issueDag(td.ops, tensors, placement);
          await Promise.all(outputs.map((o) => o.values()));
          const elapsed = performance.now() - start;
          const spans = await reader.next();
          return { ms: elapsed, elements: elementsOf(spans), pieces: spans.length, error: dagError(outputs, reference) };
        },
      };
    };

    // Grid of static placements: the first k chains on the GPU, the add chain + its sum on `tail`.
    interface Config { readonly id: string; readonly gpuChains: number; readonly tail: string; readonly placement: DagPlacement }
    const configs: Config[] = [];
    for (let gpuChains = 0; gpuChains <= s.chains; gpuChains++) {
      for (const tail of [CPU, WEBGPU]) {
        configs.push({ id: `${gpuChains}/${s.chains} chains on gpu, tail on ${tail === CPU ? 'cpu' : 'gpu'}`, gpuChains, tail, placement: { chain: (i) => (i < gpuChains ? WEBGPU : CPU), tail } });
      }
    }
    console.log(`  grid: ${configs.length} static placements, 1 warm-up round, ${s.gridReps} rep(s) each`);
    const grid = await alternate<Run>(configs.map((c) => peer(c.id, ORACLE, c.placement)), {
      reps: s.gridReps,
      warmupRounds: 1,
      onResult: (id, rep, r) => printRun(id, rep, r),
    });
    const gridMedian = (c: Config) => median(grid.get(c.id)!.map((r) => r.ms));
    const finalists = [...configs].sort((a, b) => gridMedian(a) - gridMedian(b)).slice(0, s.finalists);
    const allCpu = configs.find((c) => c.gpuChains === 0 && c.tail === CPU)!;
    const allGpu = configs.find((c) => c.gpuChains === s.chains && c.tail === WEBGPU)!;
    const cpuAlone = median(grid.get(allCpu.id)!.map((r) => r.ms));
    const gpuAlone = median(grid.get(allGpu.id)!.map((r) => r.ms));
    const deviceRatio = Math.max(cpuAlone, gpuAlone) / Math.min(cpuAlone, gpuAlone);
    console.log(`  single devices: cpu ${seconds(cpuAlone)}, webgpu ${seconds(gpuAlone)} → ${ratio(deviceRatio)} apart; best static placements (grid medians): ${finalists.map((c) => `${c.id} (${seconds(gridMedian(c))})`).join('; ')}`);

    console.log(`  policies ${POLICIES.join(', ')} and the oracle's ${finalists.length} finalists: ${s.warmup} warm-up round(s), ${s.reps} reps`);
    const warmups = new Map<string, number[]>();
    const onWarmup = (id: string, elapsed: number) => {
      warmups.set(id, [...(warmups.get(id) ?? []), elapsed]);
      console.log(`  warm-up  ${id.padEnd(22)} ${seconds(elapsed).padStart(8)}`);
    };
    const results = await alternate<Run>([...peers.map((p) => peer(p.id, p.id)), ...finalists.map((c) => peer(c.id, ORACLE, c.placement))], {
      reps: s.reps,
      warmupRounds: s.warmup,
      onWarmup,
      onResult: (id, rep, r) => printRun(id, rep, r, `  matmul rows on gpu ${pct(shareOn(r, WEBGPU, 'matmul'))}`),
    });
    const autoExplain = sessions.get('auto#1')!.explain();
    console.log(`\n  td.explain() of the auto session after its last run:\n${autoExplain.replace(/^/gm, '    ')}\n`);

    const summary = new Map([...results].map(([id, runs]) => [id, summarize(runs.map((r) => r.ms))]));
    const cold = foldColdAuto(results, warmups, oracleOf(summary, [...finalists.map((c) => c.id), CPU, 'gpu']), `DAG ${label}: auto from ${s.cold} cold caches`);
    summary.set('auto', summary.get(cold.worstId)!);
    // The oracle: the best static placement in the final round — a finalist, or the cpu or gpu policy (all on one device).
    const oracleId = [...finalists.map((c) => c.id), CPU, 'gpu'].reduce((a, b) => (summary.get(b)!.median < summary.get(a)!.median ? b : a));
    const best = oracleId === CPU ? allCpu : oracleId === 'gpu' ? allGpu : finalists.find((c) => c.id === oracleId)!;
    const oracle = summary.get(oracleId)!;
    summary.set(ORACLE, oracle);
    results.set(ORACLE, results.get(oracleId)!);
    const worstError = (runs: readonly Run[]) => Math.max(...runs.map((r) => r.error));
    const gridTable: Table = {
      title: `DAG ${label}: grid search over static placements (${s.gridReps} rep${s.gridReps === 1 ? '' : 's'} each)`,
      columns: ['Placement', 'min', 'median', 'largest rel. error'],
      rows: configs.map((c) => {
        const x = summarize(grid.get(c.id)!.map((r) => r.ms));
        const mark = c === best ? (oracleId === c.id ? ' (oracle)' : ` (= oracle, as the ${oracleId} policy)`) : '';
        return [`${c.id}${mark}${finalists.includes(c) && oracleId !== c.id ? ' (finalist)' : ''}`, seconds(x.min), seconds(x.median), worstError(grid.get(c.id)!).toExponential(1)];
      }),
      notes: [
        'Every op names its device (`{ device }`), so nothing is split or planned: chain i (matmul, relu, sum) on webgpu for i < k, else on cpu; the add chain and the final sum ("tail") on one device. All-cpu and all-gpu are the single-device points.',
        `The ${s.finalists} placements with the lowest median here (finalists) are measured again alongside the policies; the oracle is the lowest median there among the finalists and the cpu and gpu policies (all on one device).`,
      ],
    };
    const table: Table = {
      title: `DAG ${label}: policies vs the oracle (${s.reps} reps)`,
      columns: ['Policy', 'min', 'median', '× oracle (median)', '× oracle (min)', 'matmul rows on GPU', 'all elements on GPU', 'pieces/run', 'largest rel. error'],
      rows: [...peers.map((p) => p.id), ...finalists.map((c) => c.id)].map((id) => {
        const x = summary.get(id)!;
        const runs = results.get(id)!;
        return [id === oracleId ? `${id} = oracle` : id, seconds(x.min), seconds(x.median), ratio(x.median / oracle.median), ratio(x.min / oracle.min),
          pct(median(runs.map((r) => shareOn(r, WEBGPU, 'matmul')))), pct(median(runs.map((r) => shareOn(r, WEBGPU)))), String(median(runs.map((r) => r.pieces))),
          worstError(runs).toExponential(1)];
      }),
      notes: [
        `${s.chains * 3 + s.chains} ops issued in one turn, so each policy's session plans them as one graph. Every op here has ≥ 32,768 elements (SPLIT_MIN_ELEMENTS), so under auto and eager each is split across both devices rather than placed whole by HEFT; under cpu and gpu only one device is eligible.`,
        'Shares are medians over the reps of elements per device from the trace (matmul: output elements, i.e. rows × n; "all": every op\'s elements). pieces/run: whole ops plus split chunks. Errors: the chain sums and the final sum against float64.',
      ],
    };
    for (const [id, runs] of results) if (id !== ORACLE && worstError(runs) > MAX_DAG_ERROR) (table.notes as string[]).push(`WRONG RESULT: ${id} had a relative error of ${worstError(runs).toExponential(1)}.`);

    return {
      label,
      gpu: gpuDevice,
      summary,
      best,
      deviceRatio,
      autoGpuMatmulShare: median(results.get('auto')!.map((r) => shareOn(r, WEBGPU, 'matmul'))),
      autoVsOracle: summary.get('auto')!.median / oracle.median,
      cold,
      grid: gridTable,
      table,
      speedRow: [`DAG: ${label}`, seconds(cpuAlone), seconds(gpuAlone), ratio(deviceRatio), deviceRatio <= WITHIN ? 'yes' : 'no'],
      data: {
        reference,
        singleDevice: { cpuMs: cpuAlone, gpuMs: gpuAlone, ratio: deviceRatio },
        oracle: { id: oracleId, gpuChains: best.gpuChains, tail: best.tail },
        grid: Object.fromEntries(grid),
        runs: Object.fromEntries(results),
        autoExplain,
      },
    };
  } finally {
    await Promise.all([...sessions.values()].map((td) => td.close()));
  }
}
