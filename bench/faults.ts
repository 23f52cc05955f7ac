/**
 * The fault pass: faults and bad input injected into every public entry point — `run`,
 * `runMany`, `stream` (on thread and process workers), `map`, ops, `train`, `sweep` and
 * `pipeline` — each judged against what the README promises: the right answer, or a clear error,
 * settled exactly once, never a hang. `npm run bench -- faults` writes the table to
 * `bench/results/faults.md`. Not a benchmark of speed: it has no peer, only expectations.
 *
 * The task modules are the test suite's own fixtures, so the pass and the tests inject the same
 * faults.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ArgumentError, PoolClosedError, Tandem, TaskTimeoutError, Tensor, WorkerCrashedError, kernel, registerErrorClass,
  type WorkerKind,
} from '@tandem/core';
import '@tandem/backends';
import { datasets, pipeline, sweep, train, type TrainData } from '@tandem/ml';
import { favourGpu, loseGpuWhenOpStarts } from '../packages/backends/test/fixtures/lose-gpu.ts';
import { describeMachine, machineInfo } from './lib/machine.ts';
import { writeReport } from './lib/report.ts';

const fixture = (path: string) => new URL(`../packages/${path}`, import.meta.url);
const CRASH = fixture('core/test/fixtures/crash.ts');
const TASKS = fixture('core/test/fixtures/tasks.ts');
const VALUES = fixture('core/test/fixtures/values.ts');
const THROWERS = fixture('core/test/fixtures/throwers.ts');
const FAULTY_MLP = fixture('ml/test/fixtures/faulty-mlp.ts');
const MLP = fixture('ml/test/fixtures/mlp.ts');
const MAPS = fixture('ml/test/fixtures/pipeline-maps.ts');
const { QuotaError } = (await import(THROWERS.href)) as typeof import('../packages/core/test/fixtures/throwers.ts');
registerErrorClass(QuotaError);

/** What a case saw, and whether that is what the README promises. */
interface Outcome {
  readonly observed: string;
  readonly ok: boolean;
}

interface Case {
  readonly entry: string;
  readonly kind: WorkerKind | '—';
  readonly name: string;
  readonly expected: string;
  run(): Promise<Outcome>;
}

/** Longest a case may take: past it the case is reported as a hang. */
const WATCHDOG_MS = 120_000;
const dir = mkdtempSync(join(tmpdir(), 'tandem-faults-'));
let markers = 0;
const marker = () => join(dir, `marker-${markers++}`);

const describeError = (e: unknown): string =>
  e instanceof Error ? `${e.constructor.name}${(e as { attempts?: number }).attempts ? ` (attempts ${(e as { attempts?: number }).attempts})` : ''}: ${e.message.slice(0, 90)}` : `threw ${String(e)}`;
const outcome = (ok: boolean, observed: string): Outcome => ({ ok, observed });
const settle = <T>(p: Promise<T>) => p.then((value) => ({ value, error: undefined }), (error: unknown) => ({ value: undefined, error }));

function session(kind: WorkerKind, extra: Parameters<typeof Tandem.create>[0] = {}): Promise<Tandem> {
  return Tandem.create({ backends: [], workers: 2, workerKind: kind, ...extra });
}

function poolCases(kind: WorkerKind): Case[] {
  const c = (entry: string, name: string, expected: string, run: () => Promise<Outcome>): Case => ({ entry, kind, name, expected, run });
  return [
    c('run', 'worker exits mid-task, retries: 1', "resolves 'recovered'", async () => {
      await using td = await session(kind);
      const r = await settle(td.run(CRASH, 'crashOnce', [marker(), 'exit'], { retries: 1 }));
      return outcome(r.value === 'recovered', r.error ? describeError(r.error) : `resolved ${String(r.value)}`);
    }),
    c('run', 'worker exits on every attempt, retries: 2', 'WorkerCrashedError, attempts 3', async () => {
      await using td = await session(kind);
      const r = await settle(td.run(CRASH, 'crashAlways', ['exit'], { retries: 2 }));
      return outcome(r.error instanceof WorkerCrashedError && r.error.attempts === 3, describeError(r.error));
    }),
    c('run', 'worker runs out of memory once, retries: 1', "resolves 'recovered'", async () => {
      await using td = await session(kind, { resourceLimits: { maxOldGenerationSizeMb: 64 } });
      const r = await settle(td.run(CRASH, 'crashOnce', [marker(), 'oom'], { retries: 1 }));
      return outcome(r.value === 'recovered', r.error ? describeError(r.error) : `resolved ${String(r.value)}`);
    }),
    c('run', 'uncaught throw outside the task, retries: 1', "resolves 'recovered'", async () => {
      await using td = await session(kind);
      const r = await settle(td.run(CRASH, 'crashOnce', [marker(), 'throw-outside'], { retries: 1 }));
      return outcome(r.value === 'recovered', r.error ? describeError(r.error) : `resolved ${String(r.value)}`);
    }),
    c('run', 'task hangs, timeoutMs: 300, retries: 1', 'TaskTimeoutError, attempts 2', async () => {
      await using td = await session(kind);
      const r = await settle(td.run(CRASH, 'crashAlways', ['hang'], { timeoutMs: 300, retries: 1 }));
      return outcome(r.error instanceof TaskTimeoutError && r.error.attempts === 2, describeError(r.error));
    }),
    c('run', 'aborted while running, then close()', 'rejects with the reason; close() returns', async () => {
      const td = await session(kind);
      const controller = new AbortController();
      const reason = new Error('stop');
      const p = settle(td.run(CRASH, 'crashAlways', ['hang'], { signal: controller.signal }));
      setTimeout(() => controller.abort(reason), 100);
      const r = await p;
      await td.close();
      return outcome(r.error === reason, r.error === reason ? 'rejected with the reason; closed' : describeError(r.error));
    }),
    c('run', '60 calls sharing one AbortSignal, aborted', 'all 60 reject once; no listener warning', async () => {
      await using td = await session(kind);
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.name);
      process.on('warning', onWarning);
      const controller = new AbortController();
      const calls = Array.from({ length: 60 }, () => settle(td.run(TASKS, 'sleep', [10_000], { signal: controller.signal })));
      setTimeout(() => controller.abort(new Error('stop')), 100);
      const rs = await Promise.all(calls);
      process.off('warning', onWarning);
      const rejected = rs.filter((r) => r.error).length;
      const ok = rejected === 60 && !warnings.includes('MaxListenersExceededWarning');
      return outcome(ok, `${rejected} rejected; warnings: ${warnings.join(', ') || 'none'}`);
    }),
    c('run', 'user error class (registered)', 'arrives as that class with its properties', async () => {
      await using td = await session(kind);
      const r = await settle(td.run(THROWERS, 'throwQuota', [7]));
      const e = r.error as { limit?: number };
      return outcome(r.error instanceof QuotaError && e.limit === 7, `${describeError(r.error)}; instanceof QuotaError: ${r.error instanceof QuotaError}`);
    }),
    c('run', 'AggregateError', 'AggregateError with its errors', async () => {
      await using td = await session(kind);
      const r = await settle(td.run(THROWERS, 'throwAggregate'));
      const ok = r.error instanceof AggregateError && r.error.errors[0] instanceof RangeError;
      return outcome(ok, `${describeError(r.error)}; errors: ${(r.error as AggregateError).errors?.length}`);
    }),
    c('run', 'cyclic argument', 'runs as structured clone allows', async () => {
      await using td = await session(kind);
      const a: { value: number; next?: unknown } = { value: 2 };
      a.next = a;
      const r = await settle(td.run(VALUES, 'walkCycle', [a, 3]));
      return outcome(r.value === 6, r.error ? describeError(r.error) : `resolved ${String(r.value)}`);
    }),
    c('run', 'a function as an argument', "ArgumentError naming 'args[1].fn'", async () => {
      await using td = await session(kind);
      const r = await settle(td.run(TASKS, 'add', [1, { fn: () => 1 }]));
      return outcome(r.error instanceof ArgumentError && r.error.argument === 'args[1].fn', describeError(r.error));
    }),
    c('run', 'export that does not exist', 'TaskModuleError listing the exports', async () => {
      await using td = await session(kind);
      const r = await settle(td.run(TASKS, 'nope', []));
      return outcome((r.error as Error)?.name === 'TaskModuleError' && /function exports: .*add/.test((r.error as Error).message), describeError(r.error));
    }),
    c('runMany', '2,000 tasks, workers exit at random (p = 0.005), retries: 20', 'every result right, each task run to one result', async () => {
      await using td = await session(kind);
      const n = 2000;
      const results = await td.runMany<number>(CRASH, 'maybeCrash', Array.from({ length: n }, (_, i) => [i, 0.005]), { retries: 20 });
      const wrong = results.filter((v, i) => v !== i + 1).length;
      const crashes = td.stats().tasks.crashes;
      return outcome(wrong === 0 && results.length === n, `${results.length} results, ${wrong} wrong, ${crashes} crashes survived`);
    }),
    c('stream', '2,000 tasks, workers exit at random, retries: 0', 'each index once; failures = crashes', async () => {
      await using td = await session(kind);
      const n = 2000;
      const seen = new Uint8Array(n);
      let failed = 0;
      let wrong = 0;
      for await (const r of td.stream<number>(CRASH, 'maybeCrash', Array.from({ length: n }, (_, i) => [i, 0.005]))) {
        seen[r.index]!++;
        if (r.status === 'rejected') failed++;
        else if (r.value !== r.index + 1) wrong++;
      }
      const crashes = td.stats().tasks.crashes;
      const once = seen.every((s) => s === 1);
      return outcome(once && wrong === 0 && failed === crashes, `each index once: ${once}; ${failed} failed, ${crashes} crashes, ${wrong} wrong`);
    }),
    c('stream', 'loop left early (break)', 'the rest aborted; close() returns', async () => {
      const td = await session(kind);
      let taken = 0;
      for await (const _ of td.stream(TASKS, 'sleep', Array.from({ length: 50 }, () => [20]))) if (++taken === 3) break;
      await td.close();
      const s = td.stats().tasks;
      return outcome(s.completed + s.failed === s.submitted, `${s.completed} completed, ${s.aborted} aborted of ${s.submitted}; closed`);
    }),
    c('run', 'destroy() with 20 tasks running or queued', 'each rejects with PoolClosedError', async () => {
      const td = await session(kind);
      const calls = Array.from({ length: 20 }, () => settle(td.run(TASKS, 'sleep', [5_000])));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await td.destroy();
      const rs = await Promise.all(calls);
      const closed = rs.filter((r) => r.error instanceof PoolClosedError).length;
      return outcome(closed === 20, `${closed} of 20 rejected with PoolClosedError`);
    }),
  ];
}

function sessionCases(): Case[] {
  const c = (entry: string, name: string, expected: string, run: () => Promise<Outcome>): Case => ({ entry, kind: '—', name, expected, run });
  return [
    c('ops', 'cost cache holding n = t = 1e308', 'right answer, one warning', async () => {
      const path = join(dir, 'poisoned-costs.json');
      const absurd = { n: 1e308, t: 1e308 };
      writeFileSync(path, JSON.stringify({ version: 1, model: { kernels: { 'add@cpu': [absurd], 'sum@cpu': [absurd] }, transfers: { cpu: [absurd] } } }));
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        await using td = await Tandem.create({ backends: ['cpu'], workers: 2, costCache: path });
        const n = 1 << 17;
        const a = Tensor.from(Array.from({ length: n }, () => 1), [n]);
        const total = (await td.ops.sum(td.ops.add(a, a)).values())[0];
        return outcome(total === 2 * n && warnings.length === 1, `sum ${total} (expected ${2 * n}); ${warnings.length} warning`);
      } finally {
        process.off('warning', onWarning);
      }
    }),
    c('ops', 'the GPU an op was placed on is lost mid-op (auto)', 'exact output; op re-run once on the cpu', async () => {
      await using td = await Tandem.create({ backends: ['cpu', 'webgpu'], workers: 2, costCache: false });
      const n = 4096;
      favourGpu(td, 'add', 'webgpu:0', n);
      const x = Tensor.from(Array.from({ length: n }, (_, i) => i * 0.5), [n]);
      const lost = loseGpuWhenOpStarts();
      const r = await settle(td.ops.add(x, x).values());
      await lost;
      if (r.error) return outcome(false, describeError(r.error));
      const wrong = r.value!.filter((v, i) => v !== i).length;
      const runs = td.explain().split('\n').filter((l) => /^\s+\S+\s+add\b/.test(l));
      const cpuRuns = runs.filter((l) => l.trim().startsWith('cpu') && !l.includes('FAILED')).length;
      return outcome(wrong === 0 && cpuRuns === 1, `${wrong} of ${n} wrong; healthy runs on cpu: ${cpuRuns}; device ${td.devices().find((d) => d.id === 'webgpu:0') ? 'kept as lost' : 'gone'}`);
    }),
    c('map', 'the GPU a user kernel was placed on (gpujs) is lost mid-map', 'exact output; re-run once on the cpu', async () => {
      await using td = await Tandem.create({ backends: ['cpu', 'gpujs'], workers: 2, costCache: false });
      const n = 4096;
      favourGpu(td, 'user:faults_double', 'gpujs:0', n);
      const double = kernel('faults_double', function (x: number[]) {
        return 2 * x[this.thread.x]!;
      });
      const x = Tensor.from(Array.from({ length: n }, (_, i) => i), [n]);
      const lost = loseGpuWhenOpStarts();
      const r = await settle(td.map(double, [x], { output: [n] }));
      await lost;
      if (r.error) return outcome(false, describeError(r.error));
      const wrong = (await r.value!.values()).filter((v, i) => v !== 2 * i).length;
      return outcome(wrong === 0, `${wrong} of ${n} wrong`);
    }),
    c('map', 'a process worker killed (SIGKILL) mid-map', 'output exact, the crash survived', async () => {
      await using td = await Tandem.create({ backends: ['cpu'], workers: 2, workerKind: 'process', policy: 'cpu' });
      const heavy = kernel('heavy', function (x: number[]) {
        let s = 0;
        for (let k = 0; k < 2000; k++) s += Math.sin(x[this.thread.x]! + k) * 0;
        return x[this.thread.x]! * 2 + s;
      });
      const n = 1 << 18;
      const x = Tensor.from(Array.from({ length: n }, (_, i) => i % 100), [n]);
      const pending = td.map(heavy, [x], { output: [n] });
      await new Promise((resolve) => setTimeout(resolve, 150));
      const victim = td.stats().workers.find((w) => w.state === 'busy')?.pid;
      if (victim) process.kill(victim, 'SIGKILL');
      const r = await settle(pending);
      if (r.error) return outcome(false, describeError(r.error));
      const data = await r.value!.values();
      let wrong = 0;
      for (let i = 0; i < n; i++) if (data[i] !== (i % 100) * 2) wrong++;
      return outcome(wrong === 0 && victim !== undefined, `${wrong} of ${n} wrong; killed ${victim ? 'a busy worker' : 'nothing (none busy)'}; crashes ${td.stats().tasks.crashes}`);
    }),
  ];
}

async function mlCases(): Promise<Case[]> {
  const c = (entry: string, name: string, expected: string, run: () => Promise<Outcome>): Case => ({ entry, kind: '—', name, expected, run });
  const mnist = await datasets.mnist();
  const { subset } = (await import(fixture('ml/test/fixtures/subset.ts').href)) as typeof import('../packages/ml/test/fixtures/subset.ts');
  const trainSet = subset(mnist.train, 1200);
  const data: TrainData = { train: trainSet, validation: subset(mnist.test, 300) };
  const base = { data, epochs: 2, batchSize: 100, replicas: 2, seed: 5 } as const;
  return [
    c('train', 'a replica worker exits mid-epoch', 'replaced; loss as without the fault', async () => {
      const clean = await train({ ...base, model: FAULTY_MLP, config: { fail: { marker: marker(), afterCalls: 1e9, mode: 'exit' } }, balance: 'equal' });
      const failures: string[] = [];
      const r = await train({ ...base, model: FAULTY_MLP, config: { fail: { marker: marker(), afterCalls: 5, mode: 'exit' } }, balance: 'equal', onFailure: (f) => failures.push(f.action) });
      const rel = Math.abs(r.history[1]!.loss - clean.history[1]!.loss) / clean.history[1]!.loss;
      return outcome(failures.join() === 'replaced' && rel < 1e-5, `failures: ${failures.join() || 'none'}; loss differs by ${rel.toExponential(1)} (relative)`);
    }),
    c('train', 'aborted mid-training', 'rejects with the reason', async () => {
      const controller = new AbortController();
      const reason = new Error('stop');
      const r = await settle(train({ ...base, epochs: 20, model: MLP, signal: controller.signal, onStep: (s) => { if (s.globalStep === 3) controller.abort(reason); } }));
      return outcome(r.error === reason, r.error === reason ? 'rejected with the reason' : describeError(r.error));
    }),
    c('train', 'one NaN in the training data', 'ArgumentError naming the set and row', async () => {
      const x = Tensor.from(trainSet.x.data, [...trainSet.x.shape]);
      x.data[5 * 784 + 3] = Number.NaN;
      const r = await settle(train({ ...base, data: { train: { x, y: trainSet.y } }, model: MLP }));
      return outcome(r.error instanceof ArgumentError && /data\.train/.test(r.error.argument), describeError(r.error));
    }),
    c('train', 'learning rate 1e30 (loss overflows)', 'stops with an error naming the step', async () => {
      const r = await settle(train({ ...base, model: MLP, optimizer: { type: 'sgd', learningRate: 1e30 } }));
      return outcome(r.error instanceof Error && /step/.test(r.error.message) && /finite/i.test(r.error.message), describeError(r.error));
    }),
    c('train', 'checkpoint directory is a file', "ArgumentError naming 'checkpoint.directory'", async () => {
      const file = join(dir, 'not-a-directory');
      writeFileSync(file, 'x');
      const r = await settle(train({ ...base, model: MLP, checkpoint: { directory: file, everySteps: 1 } }));
      return outcome(r.error instanceof ArgumentError && r.error.argument === 'checkpoint.directory', describeError(r.error));
    }),
    c('train', 'model module without createModel', "ArgumentError naming 'model'", async () => {
      const r = await settle(train({ ...base, model: TASKS }));
      return outcome(r.error instanceof ArgumentError && r.error.argument === 'model', describeError(r.error));
    }),
    c('sweep', 'a trial whose config breaks the model', 'that trial failed, the others completed', async () => {
      const r = await sweep({ model: MLP, data, trials: 3, scheduler: 'random', maxEpochs: 1, batchSize: 100, seed: 1, concurrency: 2, space: { hidden: [-1, 8] } });
      const failed = r.trials.filter((t) => t.status === 'failed').length;
      const bad = r.trials.filter((t) => t.status === 'failed' && t.config.hidden !== -1).length;
      return outcome(bad === 0 && r.trials.length === 3, `${failed} failed (all hidden = -1: ${bad === 0}), ${3 - failed} completed`);
    }),
    c('sweep', 'aborted mid-sweep', 'rejects with the reason', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('stop')), 1500);
      const r = await settle(sweep({ model: MLP, data, trials: 4, scheduler: 'random', maxEpochs: 50, seed: 3, concurrency: 2, space: { hidden: [8] }, signal: controller.signal }));
      return outcome(r.error === controller.signal.reason, r.error === controller.signal.reason ? 'rejected with the reason' : describeError(r.error));
    }),
    c('pipeline', 'a map kills its worker once', 'block retried; epoch equals a clean one', async () => {
      const flag = new Int32Array(new SharedArrayBuffer(4));
      // The same chain with the flag already taken: nothing crashes, every map sees the same seeds.
      const taken = new Int32Array(new SharedArrayBuffer(4)).fill(1);
      const clean = pipeline(trainSet, { workers: 2, seed: 1 }).map(MAPS, 'crashOnce', { params: { flag: taken } }).map(MAPS, 'jitter').batch(200);
      const faulty = pipeline(trainSet, { workers: 2, seed: 1 }).map(MAPS, 'crashOnce', { params: { flag } }).map(MAPS, 'jitter').batch(200);
      const a = await clean.materialize(0);
      const b = await faulty.materialize(0);
      await clean.close();
      await faulty.close();
      const same = Buffer.from(a.x.data.buffer).equals(Buffer.from(b.x.data.buffer));
      return outcome(same && flag[0] === 1, `crashed once: ${flag[0] === 1}; epoch identical: ${same}`);
    }),
    c('pipeline', 'a map throws RangeError with a code', 'epoch rejects with RangeError and the code', async () => {
      const p = pipeline(trainSet, { workers: 2 }).map(MAPS, 'failAt', { params: { at: 500 } });
      const r = await settle(p.materialize(0));
      await p.close();
      return outcome(r.error instanceof RangeError && (r.error as { code?: string }).code === 'E_BAD_ROW', describeError(r.error));
    }),
    c('pipeline', 'close() with an epoch in flight', 'the epoch rejects; nothing hangs', async () => {
      const p = pipeline(trainSet, { workers: 2 }).map(MAPS, 'slow', { params: { ms: 50 } }).batch(100);
      const pending = settle(p.materialize(0));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await p.close();
      const r = await pending;
      return outcome(r.error instanceof Error, describeError(r.error));
    }),
  ];
}

async function judge(c: Case): Promise<Outcome & { ms: number }> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve(outcome(false, `HANG: no answer in ${WATCHDOG_MS / 1000} s`)), WATCHDOG_MS);
  });
  const result = await Promise.race([c.run().catch((e: unknown) => outcome(false, `case failed: ${describeError(e)}`)), watchdog]);
  clearTimeout(timer);
  return { ...result, ms: performance.now() - start };
}

export default async function faults(args: string[]): Promise<void> {
  // `npm run bench -- faults run stream` keeps the cases of those entry points only.
  const only = new Set(args.filter((a) => !a.startsWith('-')));
  const startedAt = new Date();
  const probe = await Tandem.create({ backends: ['cpu', 'webgpu'], workers: 1, costCache: false }).catch(() => undefined);
  const gpu = probe?.devices().find((d) => d.kind === 'gpu')?.description ?? 'none (the GPU cases fail without one)';
  await probe?.close();
  const machine = machineInfo(gpu);
  console.log(`fault pass on ${describeMachine(machine)}`);
  const cases = [...poolCases('thread'), ...poolCases('process'), ...sessionCases(), ...(await mlCases())]
    .filter((c) => only.size === 0 || only.has(c.entry));
  const rows: string[][] = [];
  let passed = 0;
  for (const [i, c] of cases.entries()) {
    const r = await judge(c);
    if (r.ok) passed++;
    console.log(`[${i + 1}/${cases.length}] ${r.ok ? 'ok  ' : 'MISS'} ${c.entry} (${c.kind}) ${c.name}: ${r.observed}`);
    rows.push([c.entry, c.kind, c.name, c.expected, r.observed, r.ok ? 'PASS' : 'MISS', `${(r.ms / 1000).toFixed(1)} s`]);
  }
  await writeReport({
    bench: 'faults',
    title: 'Fault pass: every entry point, faults and bad input injected',
    machine,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    settings: { cases: cases.length, watchdogMs: WATCHDOG_MS },
    tables: [{ title: 'Cases', columns: ['entry', 'workers', 'case', 'expected', 'observed', 'result', 'time'], rows }],
    checks: [{ name: 'every case as promised', target: `${cases.length} of ${cases.length}`, measured: `${passed} of ${cases.length}`, pass: passed === cases.length }],
  });
  if (passed !== cases.length) process.exitCode = 1;
}
