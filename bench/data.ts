/**
 * Data bench: Tandem's data API (td.read / td.fromArrow tables) against DuckDB, Polars and Arquero
 * on the same queries over the same data (vega-datasets' flights-3m.parquet, 3M rows, and
 * airports.csv), side by side in one run. See bench/README.md ("data").
 *
 * Queries: load (read every column into memory), groupby (origin → mean delay), filter
 * (delay > 15, count), udf (join airports for origin and destination, great-circle km per flight
 * as a user JS function, summed), kmOnly (the same user function alone, over the flights already
 * joined to their airports in memory: the user-JS path without the engines' joins and reads
 * around it), pipeline (udf, then group by route → mean delay, mean km, count → top 10 by count).
 * Each in two variants (kmOnly in memory only): `file` (the timing includes reading the Parquet
 * file) and `memory` (each peer first materialises the table in its own memory, untimed).
 * First the streaming-memory check: Tandem's pipeline under a small `maxQueuedBytes`, its peak
 * queued bytes and the process's RSS against the file's decoded size, in child processes of
 * their own (`--memory-only`; see memoryCheckIn).
 *
 * Options: --reps N (5)  --warmup N (1)  --queries load,groupby,filter,udf,kmOnly,pipeline
 *          --variants file,memory  --peers tandem,duckdb,duckdb-sql,polars,arquero
 *          --max-queued-mib N (32)  --no-memory-check  --memory-only (the check alone, as JSON)
 */
import { execFile } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Tandem } from '@tandem/core';
import '@tandem/backends';
import { int, ms, ratio, seconds } from './lib/format.ts';
import { describeLoad, watchLoad } from './lib/load.ts';
import { machineInfo, describeMachine } from './lib/machine.ts';
import { alternate, fullGc, type Peer } from './lib/repeat.ts';
import { writeReport, type Check, type Table } from './lib/report.ts';
import { summarize, type Summary } from './lib/stats.ts';
import {
  arqueroPeer, kmReference, tandemPeer, tandemRoutePipeline,
  type DataFiles, type DataPeer, type QueryName, type QueryValue, type Variant,
} from './lib/data-peers.ts';

const FILES: DataFiles = {
  flights: fileURLToPath(new URL('../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url)),
  airports: fileURLToPath(new URL('../node_modules/vega-datasets/data/airports.csv', import.meta.url)),
};
const QUERIES: readonly QueryName[] = ['load', 'groupby', 'filter', 'udf', 'kmOnly', 'pipeline'];
const VARIANTS: readonly Variant[] = ['file', 'memory'];
const PEERS = ['tandem', 'duckdb', 'duckdb-sql', 'polars', 'arquero'] as const;
const QUERY_TITLE: Record<QueryName, string> = {
  load: '1. Load: read every column, materialise in memory',
  groupby: '2. Group by origin → mean delay',
  filter: '3. Filter delay > 15, count',
  udf: '4. Join airports (origin, destination) → great-circle km per flight as a user JS function → sum',
  kmOnly: '4b. The user JS function alone: great-circle km over the flights already joined to their airports → sum',
  pipeline: '5. Pipeline: join both airports → km → group by route → mean delay, mean km, count → top 10 by count',
};
/** Tandem's user-JS path must be this much faster than the fastest peer's. */
const UDF_SPEEDUP = 2;
/** Tandem's aggregations may take at most this multiple of DuckDB's time. */
const AGG_SLOWDOWN = 2;
/** float32 km (Tandem's kernels) against the float64 reference: relative tolerance on the sum. */
const KM_TOLERANCE = 1e-4;

interface Timed {
  readonly ms: number;
  readonly value: QueryValue;
}

function positive(values: Record<string, unknown>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} wants a non-negative integer, got ${String(raw)}`);
  return n;
}

function listOption<T extends string>(raw: unknown, all: readonly T[], name: string): T[] {
  if (raw === undefined) return [...all];
  const list = String(raw).split(',').map((s) => s.trim()).filter(Boolean);
  for (const x of list) if (!all.includes(x as T)) throw new Error(`--${name}: unknown '${x}' (one of ${all.join(', ')})`);
  return list as T[];
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export default async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      reps: { type: 'string' }, warmup: { type: 'string' }, queries: { type: 'string' }, variants: { type: 'string' },
      peers: { type: 'string' }, 'max-queued-mib': { type: 'string' }, 'no-memory-check': { type: 'boolean' },
      'memory-only': { type: 'boolean' },
    },
  });
  if (values['memory-only']) {
    // A child of this bench (memoryCheckIn): the check alone, its result on stdout.
    const td = await Tandem.create();
    const m = await memoryCheck(td, Math.max(1, positive(values, 'max-queued-mib', 32)) * 2 ** 20);
    await td.close();
    console.log(`${RESULT_MARK}${JSON.stringify(m)}`);
    return;
  }
  const settings = {
    reps: Math.max(1, positive(values, 'reps', 5)),
    warmup: positive(values, 'warmup', 1),
    queries: listOption(values.queries, QUERIES, 'queries'),
    variants: listOption(values.variants, VARIANTS, 'variants'),
    peers: listOption(values.peers, PEERS, 'peers'),
    maxQueuedMiB: Math.max(1, positive(values, 'max-queued-mib', 32)),
    memoryCheck: values['no-memory-check'] !== true,
  };
  if (!settings.peers.includes('tandem')) throw new Error('--peers must include tandem (every ratio is against it)');
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const load = watchLoad();

  const td = await Tandem.create();
  const gpus = td.devices().filter((d) => d.kind !== 'cpu').map((d) => `${d.id} (${d.description})`);
  const machine = machineInfo(gpus.length ? gpus.join('; ') : 'none');
  console.log(`data bench on ${describeMachine(machine)}`);
  console.log(`Tandem devices: ${td.devices().map((d) => d.id).join(', ')}`);
  console.log(`settings: ${JSON.stringify(settings)}`);

  const tables: Table[] = [];
  const checks: Check[] = [];
  const data: Record<string, unknown> = {};

  // --- 6. Streaming memory, each in a process of its own: its RSS is then Tandem's alone.
  let decodedBytes: number | undefined;
  if (settings.memoryCheck) {
    const capped = await memoryCheckIn({ MALLOC_ARENA_MAX: '1' }, settings.maxQueuedMiB);
    const plain = await memoryCheckIn({ MALLOC_ARENA_MAX: undefined }, settings.maxQueuedMiB);
    decodedBytes = capped.decodedBytes;
    data.memory = { mallocArenaMax1: capped, defaultArenas: plain };
    tables.push(withDefaultArenas(capped.table, plain));
    checks.push(...capped.checks);
  }

  // --- The decoder's floor for the from-file aggregations: parquet-wasm alone, no Tandem.
  const cores = availableParallelism();
  const decodeFloors = settings.variants.includes('file') ? await decodeFloor(FILES.flights) : {};
  if (decodeFloors.groupby) console.log(`parquet-wasm alone, one thread: origin + delay ${ms(decodeFloors.groupby)} ms, delay ${ms(decodeFloors.filter!)} ms`);

  // --- Peers, the reference, and the timed queries.
  const peers: DataPeer[] = [];
  const make: Record<(typeof PEERS)[number], () => Promise<DataPeer>> = {
    tandem: () => tandemPeer(td, FILES),
    // Loaded on demand: a machine without their native bindings can still run the other peers.
    duckdb: async () => (await import('./lib/data-peer-duckdb.ts')).duckdbPeer(FILES, 'js'),
    'duckdb-sql': async () => (await import('./lib/data-peer-duckdb.ts')).duckdbPeer(FILES, 'sql'),
    polars: async () => (await import('./lib/data-peer-polars.ts')).polarsPeer(FILES),
    arquero: () => arqueroPeer(FILES),
  };
  for (const id of settings.peers) peers.push(await make[id]());
  const needsRef = settings.queries.includes('udf') || settings.queries.includes('kmOnly');
  const reference = needsRef ? await kmReference(FILES) : undefined;
  if (reference) console.log(`reference (plain JS, float64): ${int(reference.rows)} joined flights, Σkm = ${reference.sum.toFixed(1)}`);

  const results: Record<string, Record<string, Timed[]>> = {};
  const medians: Record<string, Record<string, number>> = {};
  const wrong: string[] = [];
  try {
    for (const variant of settings.variants) {
      if (variant === 'memory') {
        const queries = settings.queries.filter((q) => q !== 'load');
        if (queries.length === 0) continue;
        console.log('\nmaterialising the flights table in each peer (untimed)…');
        for (const p of peers) {
          const t = performance.now();
          await p.loadMemory();
          console.log(`  ${p.id.padEnd(11)} ${seconds(performance.now() - t)}`);
        }
      }
      for (const query of settings.queries) {
        if (query === 'load' && variant === 'memory') continue;
        if (query === 'kmOnly' && variant === 'file') continue; // its input is a joined table in memory
        const key = `${query}/${variant}`;
        const these = peers.filter((p) => p.queries.includes(query));
        console.log(`\n== ${QUERY_TITLE[query]} [${variant === 'file' ? 'from the file' : 'table in memory'}] ==`);
        const timedPeers: Peer<Timed>[] = these.map((p) => ({
          id: p.id,
          run: async () => {
            const t = performance.now();
            const value = await p.run(query, variant);
            return { ms: performance.now() - t, value };
          },
        }));
        const r = await alternate(timedPeers, {
          reps: settings.reps,
          warmupRounds: settings.warmup,
          onWarmup: (id, elapsed) => console.log(`  warm-up  ${id.padEnd(11)} ${seconds(elapsed)}`),
          onResult: (id, rep, x) => console.log(`  rep ${rep + 1}/${settings.reps}  ${id.padEnd(11)} ${ms(x.ms).padStart(7)} ms  ${describeValue(x.value)}`),
        });
        results[key] = Object.fromEntries(r);
        const problems = verify(query, r, reference);
        for (const w of problems) console.log(`  WRONG: ${w}`);
        wrong.push(...problems.map((w) => `${key}: ${w}`));
        const summaries = new Map(these.map((p) => [p.id, summarize(r.get(p.id)!.map((x) => x.ms))]));
        medians[key] = Object.fromEntries([...summaries].map(([id, s]) => [id, s.median]));
        tables.push(queryTable(query, variant, these, summaries, r, problems));
      }
    }
  } finally {
    for (const p of peers) await p.close();
    await td.close();
  }

  // --- Targets.
  for (const variant of settings.variants) {
    for (const q of ['udf', 'kmOnly'] as const) {
    const udf = medians[`${q}/${variant}`];
    if (udf && 'tandem' in udf) {
      const others = peers.filter((p) => p.id !== 'tandem' && p.userJs && p.id in udf);
      const fastest = others.sort((a, b) => udf[a.id]! - udf[b.id]!)[0];
      checks.push({
        name: `${q === 'udf' ? '4. join + user JS function' : '4b. the user JS function alone'} (${variant === 'file' ? 'from the file' : 'in memory'}): Tandem vs the fastest peer's user-JS path`,
        target: `≥ ${UDF_SPEEDUP}× faster`,
        measured: fastest
          ? `${ratio(udf[fastest.id]! / udf.tandem!)} (${ms(udf.tandem!)} ms vs ${fastest.label} ${ms(udf[fastest.id]!)} ms)`
          : 'no user-JS peer ran',
        pass: !!fastest && udf[fastest.id]! / udf.tandem! >= UDF_SPEEDUP,
        ...(fastest ? {} : { applies: false }),
      });
    }
    }
    for (const q of ['groupby', 'filter'] as const) {
      const m = medians[`${q}/${variant}`];
      if (!m || !('tandem' in m)) continue;
      const has = 'duckdb' in m;
      const floor = variant === 'file' ? decodeFloors[q] : undefined;
      checks.push({
        name: `${q === 'groupby' ? '2. group by' : '3. filter + count'} (${variant === 'file' ? 'from the file' : 'in memory'}): Tandem time ÷ DuckDB time`,
        target: `≤ ${AGG_SLOWDOWN}×`,
        measured: has ? `${ratio(m.tandem! / m.duckdb!)} (${ms(m.tandem!)} ms vs ${ms(m.duckdb!)} ms)${floor ? `; parquet-wasm alone decodes its columns in ${ms(floor)} ms of CPU, ≥ ${ms(floor / cores)} ms on ${cores} cores` : ''}` : 'DuckDB not run',
        pass: has && m.tandem! / m.duckdb! <= AGG_SLOWDOWN,
        ...(has ? {} : { applies: false }),
      });
    }
  }
  if (wrong.length) {
    checks.push({ name: 'Every peer\'s results agree (counts, groups, km within float32 tolerance)', target: 'all agree', measured: wrong.join('; '), pass: false });
  } else if (Object.keys(results).length) {
    checks.push({ name: 'Every peer\'s results agree (counts, groups, km within float32 tolerance)', target: 'all agree', measured: 'all agree', pass: true });
  }

  const loadReport = load.stop();
  console.log(`\n${describeLoad(loadReport)}`);
  await writeReport({
    bench: 'data',
    title: 'Data bench: Tandem tables vs DuckDB, Polars and Arquero on flights-3m',
    machine,
    startedAt,
    durationMs: performance.now() - t0,
    settings: { ...settings, flights: 'vega-datasets flights-3m.parquet', ...(decodedBytes ? { decodedMiB: +(decodedBytes / 2 ** 20).toFixed(1) } : {}) },
    tables,
    checks,
    notes: [
      'Times are wall-clock per query, median over repetitions (peers alternate within each repetition after a warm-up round; the starting peer rotates). Compare ratios, not absolute numbers, across machines.',
      '"× Tandem" is the peer\'s median time ÷ Tandem\'s: above 1 Tandem is faster, below 1 it is slower.',
      'from the file: the timing includes reading flights-3m.parquet (DuckDB and Polars query the file directly; Tandem td.read()s it; Arquero has no Parquet reader, so parquet-wasm decodes it to Arrow IPC and aq.fromArrow takes that, inside the timing). table in memory: each peer first materialised the table untimed (DuckDB CREATE TABLE AS, Polars readParquet → DataFrame, Arquero table, Tandem td.fromArrow(await table.toArrow())).',
      'The airports lookup (3,376 rows) is loaded once per peer at set-up, in both variants.',
      'User JS per row: DuckDB calls its JS scalar UDF per 2,048-row vector on the JS thread (getItem/setItem); Polars runs a JS function per row over a struct of the four columns (mapElements); Arquero derive()s with an escaped JS function; Tandem runs a kernel() per batch, split by its planner over CPU workers (float64 arithmetic) and GPUs (float32), into a float32 column. "DuckDB, km as SQL expression" is not user JS: shown for scale, not used by the target.',
      'A MISS is reported, not failed: timing targets are not unit-test assertions.',
      describeLoad(loadReport),
      ...(loadReport.otherCores > 0.25 ? ['WARNING: other processes used a noticeable share of the CPU during this run; its numbers are noisy — rerun on a quiet machine.'] : []),
    ],
    data: { results, medians, reference, load: loadReport, ...data },
  });
  const misses = checks.filter((c) => c.applies !== false && !c.pass).length;
  console.log(`\n${checks.filter((c) => c.applies !== false).length - misses}/${checks.filter((c) => c.applies !== false).length} targets met${misses ? ` (${misses} MISS)` : ''}; total ${seconds(performance.now() - t0)}`);
}

function describeValue(v: QueryValue): string {
  const parts: string[] = [];
  if (v.rows !== undefined) parts.push(`${int(v.rows)} rows`);
  if (v.groups !== undefined) parts.push(`${v.groups} groups`);
  if (v.sum !== undefined) parts.push(`Σ ${v.sum.toFixed(1)}`);
  if (v.top) parts.push(`top ${v.top[0]}`);
  return parts.join(', ');
}

/** Every peer's answer against the others' (and the JS reference for km); a line per disagreement. */
function verify(query: QueryName, runs: Map<string, Timed[]>, reference: { rows: number; sum: number } | undefined): string[] {
  const out: string[] = [];
  const firsts = [...runs].map(([id, r]) => [id, r[0]!.value] as const);
  const base = firsts[0]!;
  const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-12);
  for (const [id, v] of firsts) {
    switch (query) {
      case 'load':
      case 'filter':
        if (v.rows !== base[1].rows) out.push(`${id}: ${v.rows} rows, ${base[0]}: ${base[1].rows}`);
        break;
      case 'groupby':
        if (v.groups !== base[1].groups || !close(v.sum!, base[1].sum!, 1e-9)) out.push(`${id}: ${v.groups} groups Σmean ${v.sum}, ${base[0]}: ${base[1].groups} groups Σmean ${base[1].sum}`);
        break;
      case 'udf':
      case 'kmOnly':
        if (reference && (v.rows !== reference.rows || !close(v.sum!, reference.sum, KM_TOLERANCE))) {
          out.push(`${id}: ${v.rows} rows Σkm ${v.sum}, reference ${reference.rows} rows Σkm ${reference.sum}`);
        }
        break;
      case 'pipeline':
        if (v.top!.join() !== base[1].top!.join() || !close(v.topKm!, base[1].topKm!, KM_TOLERANCE)) {
          out.push(`${id}: top ${v.top!.join(', ')} (km ${v.topKm}), ${base[0]}: ${base[1].top!.join(', ')} (km ${base[1].topKm})`);
        }
        break;
    }
  }
  return out;
}

function queryTable(query: QueryName, variant: Variant, peers: readonly DataPeer[], s: Map<string, Summary>, runs: Map<string, Timed[]>, problems: string[]): Table {
  const tandem = s.get('tandem');
  const comparable = peers.filter((p) => p.id !== 'tandem' && (query === 'udf' || query === 'kmOnly' || query === 'pipeline' ? p.userJs : true));
  const fastest = comparable.sort((a, b) => s.get(a.id)!.median - s.get(b.id)!.median)[0];
  const rows = peers.map((p) => {
    const x = s.get(p.id)!;
    const v = runs.get(p.id)![0]!.value;
    return [query === 'udf' || query === 'kmOnly' || query === 'pipeline' ? p.label : p.name, ms(x.median), ms(x.min), ms(x.max), tandem && p.id !== 'tandem' ? ratio(x.median / tandem.median) : '—', describeValue(v)];
  });
  const notes: string[] = [];
  if (tandem && fastest) {
    notes.push(`Tandem vs the fastest ${query === 'udf' || query === 'kmOnly' || query === 'pipeline' ? 'user-JS ' : ''}peer (${query === 'udf' || query === 'kmOnly' || query === 'pipeline' ? fastest.label : fastest.name}): ${ratio(s.get(fastest.id)!.median / tandem.median)} (peer time ÷ Tandem time).`);
  }
  if (query === 'load') notes.push('Tandem collect() (one batch of shared-memory columns); DuckDB CREATE TABLE AS (its own storage, then dropped); Polars readParquet (a DataFrame); Arquero parquet-wasm → IPC → aq.fromArrow (Flechette columns, values decoded on access).');
  if (problems.length) notes.push(`RESULTS DISAGREE: ${problems.join('; ')}`);
  return {
    title: `${QUERY_TITLE[query]} — ${variant === 'file' ? 'from the file (read included)' : 'table already in memory'} (${runs.values().next().value!.length} reps)`,
    columns: ['Peer', 'median ms', 'min ms', 'max ms', '× Tandem', 'result'],
    rows,
    notes,
  };
}

/**
 * CPU milliseconds parquet-wasm takes, on this thread, to decode every row group of the columns
 * the group-by (origin, delay) and the filter (delay) read, into Arrow in WebAssembly memory:
 * the least any reader built on it (Tandem's, in its workers) spends before a row is counted.
 * Median of 3, after one warm-up.
 */
async function decodeFloor(path: string): Promise<{ groupby?: number; filter?: number }> {
  const pw = await import('parquet-wasm/node');
  const file = await pw.ParquetFile.fromFile(await openAsBlob(path));
  const groups = file.metadata().rowGroups().map((g: { numRows(): number }) => g.numRows());
  const time = async (columns: string[]) => {
    const runs: number[] = [];
    for (let rep = 0; rep < 4; rep++) {
      const t = performance.now();
      for (let g = 0; g < groups.length; g++) (await file.read({ rowGroups: [g], columns, batchSize: groups[g] })).free();
      runs.push(performance.now() - t);
    }
    return summarize(runs.slice(1)).median;
  };
  return { groupby: await time(['origin', 'delay']), filter: await time(['delay']) };
}

const RESULT_MARK = 'memory-check-result ';

type MemoryCheck = Awaited<ReturnType<typeof memoryCheck>>;

/**
 * Runs the memory check in a child process with `env` over this one's (undefined: unset), and
 * resolves to its result. glibc gives each thread an arena of its own and keeps in it what a
 * buffer allocated there leaves when another thread frees it; a pipeline's batches are made in
 * the workers and dropped on the main thread, so with the default arenas the process grows run
 * after run (about 90 MiB a run here) though Tandem holds no more. MALLOC_ARENA_MAX=1, which
 * README recommends for long-running jobs, is the measured setting; the default is shown beside it.
 */
async function memoryCheckIn(env: Record<string, string | undefined>, maxQueuedMiB: number): Promise<MemoryCheck> {
  const run = fileURLToPath(new URL('./run.ts', import.meta.url));
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, run, 'data', '--memory-only', '--max-queued-mib', String(maxQueuedMiB)], {
    env: childEnv, maxBuffer: 64 * 2 ** 20, timeout: 10 * 60_000,
  });
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (!line) throw new Error(`the memory check printed no result:\n${stdout.slice(-2000)}`);
  for (const l of stdout.split('\n')) if (l && !l.startsWith(RESULT_MARK)) console.log(l);
  return JSON.parse(line.slice(RESULT_MARK.length)) as MemoryCheck;
}

/** The check's table, with what the same check measured under glibc's default arenas. */
function withDefaultArenas(table: Table, plain: MemoryCheck): Table {
  return {
    ...table,
    title: `${table.title} (process started with MALLOC_ARENA_MAX=1)`,
    rows: [
      ...table.rows,
      ['default glibc arenas: warm run RSS growth (÷ decoded size)', `${mib(plain.warm.growth)} (${ratio(plain.warm.growth / plain.decodedBytes)})`],
      ['default glibc arenas: RSS before each run after the cold one', [...plain.warmups.map((w) => w.before), plain.warm.before].map(mib).join(' → ')],
    ],
    notes: [
      ...table.notes ?? [],
      'Each memory check runs in a process of its own, twice: with MALLOC_ARENA_MAX=1 (measured; the target is judged on it) and with glibc\'s default arenas, one per thread (shown in the last two rows). A batch is made in a worker and dropped on the main thread; glibc keeps the freed buffer in the worker\'s arena, so with the default arenas the process grows run after run though Tandem holds no more. README recommends MALLOC_ARENA_MAX=1 for long-running jobs.',
    ],
  };
}

/** The memory check's warm-up runs: until the RSS before a run moves by less than SETTLED_BYTES, at most MAX_WARMUPS. */
const MAX_WARMUPS = 8;
const SETTLED_BYTES = 16 * 2 ** 20;

/** Tandem's route pipeline under a small maxQueuedBytes: peak queued and RSS against the decoded size. */
async function memoryCheck(td: Tandem, maxQueuedBytes: number) {
  console.log(`\n== 6. Streaming memory: Tandem's route pipeline with maxQueuedBytes ${mib(maxQueuedBytes)} ==`);
  const airports = await td.fromArrow(await (await td.read(FILES.airports)).select('iata', 'latitude', 'longitude').toArrow(), 'airports');
  const flights = await td.read(FILES.flights);
  /** One run of the pipeline: wall time, RSS before, the sampled RSS peak, and the top route. */
  const once = async () => {
    fullGc();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const t = performance.now();
    const top = await tandemRoutePipeline(flights, airports).toRows({ maxQueuedBytes });
    const wallMs = performance.now() - t;
    clearInterval(timer);
    return { wallMs, before, peak: Math.max(peak, process.memoryUsage().rss), top };
  };
  // Cold: the first run pays parquet-wasm's memory, kernel compilation and GPU set-up. Linux's
  // maxRSS (kilobytes) is the process's high-water mark since it started: this section runs first.
  const cold = await once();
  const coldPeak = Math.max(cold.peak, process.resourceUsage().maxRSS * 1024);
  // One-off growth does not all land in the first run: each worker grows its own parquet-wasm
  // memory and compiles its kernels the first time it gets that work, and the two alternate row
  // groups. So warm-up runs follow until the RSS before a run stops moving, and the last is measured.
  const warmups: Array<{ before: number; growth: number }> = [];
  let warm = await once();
  let settled = false;
  while (warmups.length < MAX_WARMUPS && !settled) {
    const next = await once();
    warmups.push({ before: warm.before, growth: warm.peak - warm.before });
    settled = Math.abs(next.before - warm.before) < SETTLED_BYTES;
    warm = next;
  }
  const { wallMs, top } = warm;
  const rssBefore = warm.before;
  const rssPeakSampled = warm.peak;
  const explain = td.explain();
  const run = td.lastPipelineRun();
  const peakQueued = run?.peakQueuedBytes;
  // The budget holds for batches at rest; an empty pipe still takes one batch, so one may be over.
  const bound = run ? maxQueuedBytes + run.pipes * run.largestBatchBytes : maxQueuedBytes;
  console.log(explain.split('\n').filter((l) => /Data pipeline|^\s{2}\S/.test(l)).slice(-8).join('\n'));
  // The decoded size: every column of the file as Tandem holds it in memory (collected once, after).
  const all = await flights.collect();
  let decodedBytes = 0;
  for (const c of all.columns.values()) decodedBytes += c.values.data.byteLength + (c.validity?.byteLength ?? 0);
  const growth = rssPeakSampled - rssBefore;
  const coldGrowth = coldPeak - cold.before;
  console.log(`  top route ${String(top[0]?.origin)}-${String(top[0]?.destination)}; cold run ${seconds(cold.wallMs)}, RSS ${mib(cold.before)} → ${mib(coldPeak)} (+${mib(coldGrowth)}); warm run ${seconds(wallMs)}, RSS ${mib(rssBefore)} → ${mib(rssPeakSampled)} (+${mib(growth)}); peak queued ${peakQueued === undefined ? '?' : mib(peakQueued)} of ${mib(maxQueuedBytes)}; decoded file ${mib(decodedBytes)}`);
  const table: Table = {
    title: `6. Streaming memory: Tandem route pipeline (q5) with maxQueuedBytes = ${mib(maxQueuedBytes)}`,
    columns: ['Measure', 'Value'],
    rows: [
      ['peak bytes queued between stages (td.lastPipelineRun(), warm run)', peakQueued === undefined ? 'no run recorded' : mib(peakQueued)],
      ['maxQueuedBytes', mib(maxQueuedBytes)],
      ['largest batch × pipes (the slack over the budget)', run ? `${mib(run.largestBatchBytes)} × ${run.pipes}` : '?'],
      ['decoded size of the file (every column as Tandem holds it)', mib(decodedBytes)],
      ['cold run: wall time', seconds(cold.wallMs)],
      ['cold run: RSS before (after Tandem.create, airports read)', mib(cold.before)],
      ['cold run: RSS high-water (max of getrusage maxRSS and 5 ms samples)', mib(coldPeak)],
      ['cold run: RSS growth (÷ decoded size)', `${mib(coldGrowth)} (${ratio(coldGrowth / decodedBytes)})`],
      ['warm run: wall time', seconds(wallMs)],
      ['warm run: RSS before', mib(rssBefore)],
      ['warm run: RSS peak (5 ms samples)', mib(rssPeakSampled)],
      ['warm run: RSS growth (÷ decoded size)', `${mib(growth)} (${ratio(growth / decodedBytes)})`],
      ['process RSS high-water over every run (getrusage maxRSS)', mib(process.resourceUsage().maxRSS * 1024)],
      ['runs between the cold and the measured one: RSS before → growth', warmups.map((w) => `${mib(w.before)} → +${mib(w.growth)}`).join('; ') || 'none'],
    ],
    notes: [
      `Run in a process of its own, so the RSS high-water mark is Tandem's (its workers and GPU backends are threads of this process). The cold run pays one-off growth (parquet-wasm's WebAssembly memory, which never shrinks; kernel compilation; GPU set-up), and so, in part, do the runs after it: each worker grows its own WebAssembly memory the first times it decodes, and the two workers alternate row groups. Runs repeat until the RSS before a run moves by less than ${mib(SETTLED_BYTES)} (at most ${MAX_WARMUPS} more), and the last is the measured warm run; every run's growth is in the table. The warm run's peak is sampled every 5 ms from the main thread (getrusage's maxRSS cannot be reset), so a short spike may be missed.`,
      'flights-3m.parquet has 11 row groups of ~272,727 rows; Tandem decodes one row group at a time into one batch (~9 MiB of columns, more after the joins and km).',
    ],
  };
  const checks: Check[] = [
    {
      name: '6. Streaming: peak bytes queued between stages ≤ maxQueuedBytes + one batch per pipe',
      target: `≤ ${mib(bound)}`,
      measured: peakQueued === undefined ? 'unknown' : mib(peakQueued),
      pass: peakQueued !== undefined && peakQueued <= bound,
    },
    {
      name: '6. Streaming: RSS growth during the (warm) pipeline below the decoded file size',
      target: `< ${mib(decodedBytes)}`,
      measured: `warm ${mib(growth)} (${ratio(growth / decodedBytes)})${settled ? '' : `, but the RSS before each run had not settled after ${MAX_WARMUPS} runs`}; cold run ${mib(coldGrowth)} (${ratio(coldGrowth / decodedBytes)})`,
      pass: settled && growth < decodedBytes,
    },
  ];
  return { table, checks, decodedBytes, cold: { ...cold, top: undefined, peak: coldPeak, growth: coldGrowth }, warmups, warm: { ...warm, top: undefined, growth }, peakQueued, maxQueuedBytes, explain };
}


