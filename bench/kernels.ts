/**
 * Kernel bench (issue #3): GFLOP/s and GB/s of every Tandem backend for matmul (256–2048), saxpy
 * and sum (1M, 16M), side by side with TensorFlow.js's wasm and cpu engines called directly, in
 * one run.
 *
 * Peers alternate within each repetition after a warm-up run (the first run, which includes
 * uploads and shader compilation, is reported on its own); min and median of the repetitions;
 * ratios to tfjs-wasm from medians. Steady state: inputs resident where each peer keeps them,
 * each run ends with the result in host memory. Every peer's output is checked against float64.
 *
 * Options: --reps N (5)  --max-run-s S (10: a peer whose one run takes longer, or is predicted to
 *          from the previous size, is skipped at that size, and the table says so)
 *          --kernels matmul,saxpy,sum  --peers SUBSTR[,SUBSTR] (keep only peers whose id contains one)
 *          --workers N (the cpu backend's workers and PyTorch's threads; default: every core)
 *          --matmul-sizes 256,512,1024,2048 (add 4096 on a real GPU)
 */
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { WorkerPool, type BackendName } from '@tandem/core';
import type { Backend } from '@tandem/core/backend';
import { createBackend } from '@tandem/backends';
// @tandem/backends exports the registry only, and createBackend('tfjs') takes no engine.
import { TfjsBackend } from '../packages/backends/src/tfjs/index.ts';
import { int, ms, ratio } from './lib/format.ts';
import { check, makeCase, sizeLabel, type CheckResult, type KernelCase, type KernelName } from './lib/kernel-cases.ts';
import { tandemPeer, tfjsDirectPeer, type KernelPeer, type Runner } from './lib/kernel-peers.ts';
import { describeLoad, watchLoad } from './lib/load.ts';
import { torchKernelPeer, type TorchKernelPeer } from './lib/torch-kernel-peer.ts';
import { describeMachine, machineInfo } from './lib/machine.ts';
import { alternate, type Peer } from './lib/repeat.ts';
import { writeReport, type Check, type Table } from './lib/report.ts';
import { summarize } from './lib/stats.ts';

const SIZES: Readonly<Record<KernelName, readonly number[]>> = {
  matmul: [256, 512, 1024, 2048],
  saxpy: [2 ** 20, 2 ** 24],
  sum: [2 ** 20, 2 ** 24],
};
const TARGET_CPU_MATMUL = 2;
const TARGET_N = 1024;
const REFERENCE = 'tfjs-wasm direct';
/** OpenBLAS sgemm on one core of this machine: the practical ceiling for a CPU matmul. */
const OPENBLAS_GFLOPS_PER_CORE = 69;

interface Cell {
  readonly kernel: KernelName;
  readonly n: number;
  readonly label: string;
  readonly peer: string;
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly reason?: string;
  readonly firstMs?: number;
  readonly timesMs: number[];
  readonly minMs: number;
  readonly medianMs: number;
  /** Throughput from the median and from the best run (GFLOP/s or GB/s). */
  readonly median: number;
  readonly best: number;
  readonly check?: CheckResult;
}

interface Unavailable {
  readonly peer: string;
  readonly reason: string;
}

function positive(values: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} wants a positive number, got ${raw}`);
  return n;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/** Opens the Tandem backends that work here; the others are printed with the reason. */
async function openTandem(pool: WorkerPool, unavailable: Unavailable[]): Promise<Backend[]> {
  const open: Backend[] = [];
  for (const name of ['cpu', 'webgpu', 'gpujs', 'tfjs'] as BackendName[]) {
    let backend: Backend | undefined;
    try {
      backend = await createBackend(name, { pool });
      await backend.init();
      open.push(backend);
    } catch (error) {
      await backend?.dispose().catch(() => undefined);
      const fix = (error as { fix?: string }).fix;
      unavailable.push({ peer: `tandem ${name}`, reason: `${message(error)}${fix ? ` (fix: ${fix})` : ''}` });
      console.log(`  tandem ${name}: unavailable — ${message(error)}`);
    }
  }
  // Tandem's tfjs on the engines it did not pick, too: on wasm it faces tfjs-wasm direct, the same
  // engine, which shows what Tandem's plumbing costs; on webgpu it is the established WebGPU
  // implementation to hold Tandem's own webgpu backend against.
  const picked = open.find((b) => b.name === 'tfjs');
  for (const engine of ['wasm', 'webgpu'] as const) {
    if (!picked || picked.device.id === `tfjs:${engine}`) continue;
    const extra = new TfjsBackend({ engine });
    try {
      await extra.init();
      open.push(extra);
    } catch (error) {
      await extra.dispose().catch(() => undefined);
      unavailable.push({ peer: `tandem tfjs:${engine}`, reason: message(error) });
      console.log(`  tandem tfjs:${engine}: unavailable — ${message(error)}`);
    }
  }
  return open;
}

/** tfjs-core with its wasm and cpu engines registered (the same singleton the Tandem tfjs backend uses). */
async function loadTfjs(): Promise<typeof import('@tensorflow/tfjs-core')> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  // The .wasm files sit next to the package's entry point; in Node setWasmPaths takes a directory path.
  wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  return tf;
}

async function directPeers(tf: typeof import('@tensorflow/tfjs-core'), unavailable: Unavailable[]): Promise<KernelPeer[]> {
  const peers: KernelPeer[] = [];
  const engines = [
    { engine: 'wasm', id: 'tfjs-wasm direct' },
    { engine: 'cpu', id: 'tfjs-cpu direct' },
  ];
  for (const { engine, id } of engines) {
    try {
      if (!(await tf.setBackend(engine))) throw new Error(`tf.setBackend('${engine}') returned false`);
      const device = engine === 'wasm'
        ? `tfjs-backend-wasm ${tf.version_core} (XNNPACK${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? ', SIMD' : ', no SIMD'}), main thread, ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threads available' : '1 thread: no wasm threads in Node'}`
        : `tfjs-backend-cpu ${tf.version_core} (plain JS), main thread`;
      peers.push(tfjsDirectPeer(id, tf, engine, device));
    } catch (error) {
      unavailable.push({ peer: id, reason: message(error) });
      console.log(`  ${id}: unavailable — ${message(error)}`);
    }
  }
  return peers;
}

function throughput(c: KernelCase, msValue: number): number {
  return c.work / (msValue * 1e6);
}

/** Times one case on every peer: warm-up (reported as the first run), then alternating repetitions. */
async function runCase(c: KernelCase, peers: readonly KernelPeer[], reps: number, maxRunMs: number, previous: Map<string, { n: number; ms: number }>): Promise<Cell[]> {
  const cells: Cell[] = [];
  const skip = (peer: string, reason: string, firstMs?: number): void => {
    console.log(`  ${c.kernel} ${c.label.padEnd(5)} ${peer.padEnd(20)} skipped: ${reason}`);
    cells.push({ kernel: c.kernel, n: c.n, label: c.label, peer, status: 'skipped', reason, firstMs, timesMs: [], minMs: NaN, medianMs: NaN, median: NaN, best: NaN });
  };
  const fail = (peer: string, error: unknown): void => {
    console.log(`  ${c.kernel} ${c.label.padEnd(5)} ${peer.padEnd(20)} FAILED: ${message(error)}`);
    cells.push({ kernel: c.kernel, n: c.n, label: c.label, peer, status: 'failed', reason: message(error), timesMs: [], minMs: NaN, medianMs: NaN, median: NaN, best: NaN });
  };

  const ready: { peer: KernelPeer; runner: Runner; firstMs: number }[] = [];
  for (const peer of peers) {
    if (!peer.supports(c.kernel)) {
      skip(peer.id, `no ${c.kernel} kernel`);
      continue;
    }
    const prev = previous.get(`${c.kernel}:${peer.id}`);
    if (prev) {
      const predicted = prev.ms * (c.n / prev.n) ** (c.kernel === 'matmul' ? 3 : 1);
      if (predicted > maxRunMs) {
        skip(peer.id, `≈ ${(predicted / 1000).toFixed(0)} s a run, predicted from ${sizeLabel(prev.n)} (cap ${maxRunMs / 1000} s)`);
        continue;
      }
    }
    let runner: Runner | undefined;
    try {
      runner = await peer.prepare(c);
      const firstMs = await runner.run();
      if (firstMs > maxRunMs) {
        runner.release();
        skip(peer.id, `its first run took ${(firstMs / 1000).toFixed(1)} s (cap ${maxRunMs / 1000} s)`, firstMs);
        continue;
      }
      ready.push({ peer, runner, firstMs });
    } catch (error) {
      runner?.release();
      fail(peer.id, error);
    }
  }

  const failed = new Map<string, unknown>();
  const timed: Peer<number>[] = ready.map(({ peer, runner }) => ({
    id: peer.id,
    run: async () => {
      if (failed.has(peer.id)) return NaN;
      try {
        return await runner.run();
      } catch (error) {
        failed.set(peer.id, error);
        return NaN;
      }
    },
  }));
  const results = await alternate(timed, { reps, warmupRounds: 0 });

  for (const { peer, runner, firstMs } of ready) {
    const error = failed.get(peer.id);
    if (error !== undefined) {
      runner.release();
      fail(peer.id, error);
      continue;
    }
    const times = results.get(peer.id)!;
    const s = summarize(times);
    const verdict = check(c, runner.output());
    runner.release();
    previous.set(`${c.kernel}:${peer.id}`, { n: c.n, ms: s.median });
    const cell: Cell = {
      kernel: c.kernel, n: c.n, label: c.label, peer: peer.id, status: 'ok', firstMs, timesMs: times,
      minMs: s.min, medianMs: s.median, median: throughput(c, s.median), best: throughput(c, s.min), check: verdict,
    };
    cells.push(cell);
    console.log(`  ${c.kernel} ${c.label.padEnd(5)} ${peer.id.padEnd(20)} median ${ms(s.median).padStart(6)} ms  ${cell.median.toFixed(2).padStart(7)} ${c.unit}  first ${ms(firstMs)} ms  check ${verdict.ok ? 'ok' : 'OFF'} (${verdict.error.toExponential(1)})`);
  }
  const order = new Map(peers.map((p, i) => [p.id, i]));
  return cells.sort((a, b) => order.get(a.peer)! - order.get(b.peer)!);
}

function fmtThroughput(v: number): string {
  if (!Number.isFinite(v)) return '—';
  return v >= 100 ? int(v) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function checkCell(cell: Cell): string {
  if (cell.status === 'skipped') return `skipped: ${cell.reason}`;
  if (cell.status === 'failed') return `FAILED: ${cell.reason}`;
  return `${cell.check!.ok ? 'ok' : 'OFF'} (${cell.check!.error.toExponential(1)})`;
}

function kernelTable(kernel: KernelName, cells: readonly Cell[], unit: string, formula: string): Table {
  const ref = new Map(cells.filter((c) => c.kernel === kernel && c.peer === REFERENCE && c.status === 'ok').map((c) => [c.n, c.medianMs]));
  return {
    title: `${kernel}: ${unit} = ${formula}`,
    columns: ['Size', 'Peer', 'Median ms', 'Min ms', `${unit} (median)`, `${unit} (best)`, 'vs tfjs-wasm', 'First run ms', 'Check'],
    rows: cells.filter((c) => c.kernel === kernel).map((c) => [
      c.label, c.peer, ms(c.medianMs), ms(c.minMs), fmtThroughput(c.median), fmtThroughput(c.best),
      ratio((ref.get(c.n) ?? NaN) / c.medianMs), ms(c.firstMs ?? NaN), checkCell(c),
    ]),
  };
}

/** The CPU matmul ceiling: PyTorch's (OpenBLAS) when it ran on the CPU in this run, else the figure measured once on the 2-core VM. */
function ceilingNote(cells: readonly Cell[], bestCpu: Cell | undefined, workers: number): string {
  const torch = cells.find((c) => c.kernel === 'matmul' && c.n === TARGET_N && c.peer === 'pytorch cpu' && c.status === 'ok');
  const ceiling = torch ? torch.median : OPENBLAS_GFLOPS_PER_CORE * workers;
  const source = torch
    ? `PyTorch on ${workers} CPU threads measured ${fmtThroughput(ceiling)} GFLOP/s at ${TARGET_N} in this run`
    : `OpenBLAS's ≈ ${OPENBLAS_GFLOPS_PER_CORE} GFLOP/s per core on the 2-core VM (≈ ${fmtThroughput(ceiling)} GFLOP/s on ${workers} cores; PyTorch did not run here to measure it)`;
  return `The practical ceiling for a CPU matmul: ${source}.${bestCpu ? ` ${bestCpu.peer} reached ${fmtThroughput(bestCpu.median)} GFLOP/s at ${TARGET_N} (${Math.round((100 * bestCpu.median) / ceiling)}% of that).` : ''}`;
}

/** Tandem's GPU backends against PyTorch on CUDA, matmul at each size both ran: the ratio a GPU user would compare. */
function gpuNotes(cells: readonly Cell[], peers: readonly KernelPeer[]): string[] {
  const gpuPeers = peers.filter((p) => p.tandem && !p.cpu).map((p) => p.id);
  const out: string[] = [];
  for (const torch of cells.filter((c) => c.kernel === 'matmul' && c.peer === 'pytorch cuda' && c.status === 'ok')) {
    const best = cells.filter((c) => c.kernel === 'matmul' && c.n === torch.n && gpuPeers.includes(c.peer) && c.status === 'ok' && c.check?.ok)
      .sort((a, b) => a.medianMs - b.medianMs)[0];
    if (best) out.push(`matmul ${torch.label}: ${best.peer} ${fmtThroughput(best.median)} GFLOP/s against PyTorch CUDA's ${fmtThroughput(torch.median)} (${ratio(torch.medianMs / best.medianMs)} of PyTorch's speed; both include reading the result back to host memory).`);
  }
  return out;
}

export default async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: Object.fromEntries(['reps', 'max-run-s', 'kernels', 'peers', 'workers', 'matmul-sizes'].map((k) => [k, { type: 'string' as const }])) });
  const reps = Math.max(1, Math.round(positive(values, 'reps', 5)));
  const maxRunMs = positive(values, 'max-run-s', 10) * 1000;
  const kernels = (values.kernels?.split(',') ?? ['matmul', 'saxpy', 'sum']) as KernelName[];
  for (const k of kernels) if (!(k in SIZES)) throw new Error(`--kernels: unknown kernel '${k}' (have ${Object.keys(SIZES).join(', ')})`);
  const peerFilter = values.peers?.split(',');
  const WORKERS = Math.round(positive(values, 'workers', availableParallelism()));
  const sizes: Readonly<Record<KernelName, readonly number[]>> = {
    ...SIZES,
    ...(values['matmul-sizes'] ? {
      matmul: values['matmul-sizes'].split(',').map((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0) throw new Error(`--matmul-sizes wants positive integers, got ${v}`);
        return n;
      }),
    } : {}),
  };

  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  console.log('kernels bench: opening peers');
  const unavailable: Unavailable[] = [];
  const pool = new WorkerPool({ workers: WORKERS });
  const tandem: Backend[] = [];
  const torchPeers: TorchKernelPeer[] = [];
  const closeAll = async () => {
    for (const t of torchPeers) t.dispose();
    await Promise.all(tandem.map((b) => b.dispose().catch(() => undefined)));
    await pool.close();
  };
  let tf: Awaited<ReturnType<typeof loadTfjs>>;
  let direct: KernelPeer[];
  try {
    await pool.ready();
    tandem.push(...(await openTandem(pool, unavailable)));
    tf = await loadTfjs();
    direct = await directPeers(tf, unavailable);
    const found = await torchKernelPeer(WORKERS);
    if (typeof found === 'string') {
      unavailable.push({ peer: 'pytorch', reason: found });
      console.log(`  pytorch: unavailable — ${found}`);
    } else {
      torchPeers.push(found);
      if (!found.cpu) {
        const resident = await torchKernelPeer(WORKERS, true);
        if (typeof resident !== 'string') torchPeers.push(resident);
      }
      direct.push(...torchPeers);
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  // tfjs is one engine per thread: the Tandem tfjs backends and the direct peers share it. A
  // TfjsBackend makes its engine active for each run and restores the previous one after; so that
  // no run pays for switching, each peer makes its own engine active untimed before its runs.
  // Tensors stay on the engine that made them.
  const engineOf = (b: Backend) => b.device.id.split(':')[1]!;
  const useEngine = (engine: string) => async () => {
    if (tf.getBackend() !== engine) await tf.setBackend(engine);
  };
  const tfjsEngines = tandem.filter((b) => b.name === 'tfjs').map(engineOf);
  let peers: KernelPeer[] = [
    ...direct,
    ...tandem.map((b) => (b.name === 'tfjs' ? tandemPeer(`tandem ${b.device.id}`, b, useEngine(engineOf(b))) : tandemPeer(`tandem ${b.name}`, b))),
  ];
  if (peerFilter) peers = peers.filter((p) => p.id === REFERENCE || peerFilter.some((f) => p.id.includes(f)));

  const gpu = tandem.find((b) => b.name === 'webgpu') ?? tandem.find((b) => b.device.kind === 'gpu');
  const machine = machineInfo(gpu ? gpu.device.description : 'none (no WebGPU adapter)');
  const settings = { reps, maxRunS: maxRunMs / 1000, workers: WORKERS, kernels, peers: peers.map((p) => p.id) };
  console.log(`kernels bench on ${describeMachine(machine)}`);
  console.log(`settings: ${JSON.stringify(settings)}`);

  const watch = watchLoad();
  const cells: Cell[] = [];
  const previous = new Map<string, { n: number; ms: number }>();
  try {
    for (const kernel of kernels) {
      for (const n of sizes[kernel]) cells.push(...(await runCase(makeCase(kernel, n), peers, reps, maxRunMs, previous)));
    }
  } finally {
    await closeAll();
  }
  const load = watch.stop();

  const tables: Table[] = [{
    title: 'Peers',
    columns: ['Peer', 'Runs on'],
    rows: [...peers.map((p) => [p.id, p.device]), ...unavailable.map((u) => [u.peer, `unavailable: ${u.reason}`])],
    notes: [
      `Tandem backends run through the Backend interface (\`backend.run(call)\`); the cpu backend on a WorkerPool of ${WORKERS} workers.`,
      'Direct tfjs peers are tfjs-core plus one engine in the main thread, as a tfjs user would call them: `tf.matMul(a, b)`, `tf.add(tf.mul(x, α), y)`, `tf.sum(x)`, then `await data()`.',
      tfjsEngines.length
        ? `Tandem's tfjs backend picks the ${tfjsEngines[0]} engine by itself here${tfjsEngines.length > 1 ? `; it also runs on ${tfjsEngines.slice(1).join(' and ')}, asked for by name` : ''}. tfjs is one engine per thread: the direct peers and Tandem's tfjs backends share it. A TfjsBackend makes its engine active for each run and restores the previous one afterwards; so that no timed run pays for that switch, every peer makes its own engine active with tf.setBackend before each run, outside the timed region. Each peer's tensors were made on its engine, so nothing moves between engines.`
        : 'Tandem\'s tfjs backend did not open, so only the direct tfjs peers use tfjs.',
    ],
  }];
  const formulas: Record<KernelName, [string, string]> = { matmul: ['GFLOP/s', '2·n³ / t'], saxpy: ['GB/s', '12·n / t (read x and y, write out)'], sum: ['GB/s', '4·n / t'] };
  for (const kernel of kernels) tables.push(kernelTable(kernel, cells, ...formulas[kernel]));

  const summaryColumns = kernels.flatMap((k) => sizes[k].map((n) => `${k} ${sizeLabel(n)}`));
  tables.push({
    title: 'Side by side: median GFLOP/s (matmul) or GB/s, and the ratio to tfjs-wasm direct',
    columns: ['Peer', ...summaryColumns],
    rows: peers.map((p) => [p.id, ...kernels.flatMap((k) => sizes[k].map((n) => {
      const cell = cells.find((c) => c.kernel === k && c.n === n && c.peer === p.id);
      const ref = cells.find((c) => c.kernel === k && c.n === n && c.peer === REFERENCE && c.status === 'ok');
      if (!cell || cell.status !== 'ok') return cell?.status ?? '—';
      return `${fmtThroughput(cell.median)} (${ratio(ref ? ref.medianMs / cell.medianMs : NaN)})`;
    }))]),
  });

  const checks: Check[] = [];
  const refCell = cells.find((c) => c.kernel === 'matmul' && c.n === TARGET_N && c.peer === REFERENCE && c.status === 'ok');
  const cpuPeers = new Set(peers.filter((p) => p.tandem && p.cpu).map((p) => p.id));
  const bestCpu = cells.filter((c) => c.kernel === 'matmul' && c.n === TARGET_N && cpuPeers.has(c.peer) && c.status === 'ok' && c.check?.ok)
    .sort((a, b) => a.medianMs - b.medianMs)[0];
  if (kernels.includes('matmul')) {
    const r = refCell && bestCpu ? refCell.medianMs / bestCpu.medianMs : NaN;
    checks.push({
      name: `Tandem's best CPU matmul ${TARGET_N} vs tfjs-wasm (1 thread)`,
      target: `≥ ${TARGET_CPU_MATMUL}× (≥ ${refCell ? fmtThroughput(TARGET_CPU_MATMUL * refCell.median) : '—'} GFLOP/s)`,
      measured: bestCpu && refCell
        ? `${ratio(r)}: ${bestCpu.peer} ${fmtThroughput(bestCpu.median)} GFLOP/s vs ${fmtThroughput(refCell.median)} GFLOP/s (medians)`
        : 'not measured (a peer was unavailable, skipped or wrong)',
      pass: r >= TARGET_CPU_MATMUL,
    });
  }

  const notes = [
    'Steady state: each peer ran once before the timed runs (its time is the "First run" column: uploads, shader compilation, tfjs kernel setup); timed runs start with the inputs already where the peer keeps them (shared host memory for the cpu backend, device buffers for GPU backends, tfjs tensors for tfjs) and end when the result is in host memory, so output readback is included and input upload is not.',
    `Peers alternate within each repetition (the starting peer rotates); ${reps} repetitions; ratios are from medians of this run. A peer whose one run takes over ${maxRunMs / 1000} s, or is predicted to from the previous size (n³ for matmul, n otherwise), is skipped at that size and shown as skipped.`,
    'Checks against float64, with the tolerances Tandem\'s backend tests use: matmul samples 256 entries (error relative to Σ|a·b| over the dot product, tolerance 1e-5·√n); saxpy checks every element (relative to |αx|+|y|, 1e-6); sum relative to Σ|x| (1e-5). "OFF" marks a result outside its tolerance: shown, not dropped, and never counted for a target.',
    ceilingNote(cells, bestCpu, WORKERS),
    ...gpuNotes(cells, peers),
    'tfjs-backend-wasm runs single-threaded in Node (setThreadsCount has no effect there); splitting rows across worker threads is how Tandem\'s cpu backend uses every core.',
    ...(gpu?.device.software
      ? [`The GPU is a software rasteriser (${gpu.device.description}): its shaders run on the same ${machine.cores} CPU cores, so GPU figures here measure that emulation, not GPU hardware.`]
      : []),
    describeLoad(load),
    ...(load.otherCores > 0.2
      ? [`Other processes took ${load.otherCores.toFixed(2)} of ${load.cores} cores during this run: every figure is disturbed, the ${WORKERS}-worker cpu backend's most (it needs every core, a 1-thread peer only one). Rerun on a quiet machine before trusting the ratios.`]
      : []),
  ];

  const durationMs = performance.now() - t0;
  await writeReport({
    bench: 'kernels',
    title: 'Kernel throughput: Tandem backends vs TensorFlow.js',
    machine,
    startedAt,
    durationMs,
    settings,
    tables,
    checks,
    notes,
    data: { cells, unavailable, load },
  });
}
