/**
 * Stages against an independent computation: plain JS loops over the rows DuckDB reads from the
 * same file, or DuckDB's own SQL. The data is the first 200,000 flights of flights-3m.
 */
import { writeFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tandem/backends';
import { kernel, Tandem } from '../src/index.ts';
import type { Batch, Table } from '../src/data/index.ts';
import { AIRPORTS, closeF32, dataTasks, duckdb, FLIGHTS_3M, firstRows, lastRun, tempDir, arrowTable } from './data-helpers.ts';

const N = 200_000;
const SLICE = firstRows(FLIGHTS_3M, N);
let td: Tandem;
let db: Awaited<ReturnType<typeof duckdb>>;
let ref: { date: number; delay: number; distance: number; origin: string; destination: string }[];
const tmp = tempDir();
const flights = async (): Promise<Table> => (await td.read(FLIGHTS_3M)).limit(N);

/** `batch` has exactly `expected.length` rows, and its column `name` holds `expected`, in order. */
function expectColumn(batch: Batch, name: string, expected: readonly unknown[]): void {
  expect(batch.rows).toBe(expected.length);
  const got = batch.columns.get(name)!.values.data;
  let wrong = 0;
  for (let i = 0; i < expected.length; i++) if (got[i] !== expected[i]) wrong++;
  expect(wrong).toBe(0);
}

beforeAll(async () => {
  td = await Tandem.create({ workers: 2, backends: ['cpu'], costCache: false });
  db = await duckdb();
  ref = (await db.rows(`select epoch_ms(date)::double date, delay::double delay, distance::double distance, origin, destination from ${SLICE} order by file_row_number`)) as typeof ref;
});
afterAll(async () => {
  db?.close();
  await td?.close();
  tmp.remove();
});

const km = kernel('km', function (miles: number[]) {
  return miles[this.thread.x]! * 1.609344;
});

describe('filter', () => {
  it.each([
    ['delay', '>', 15], ['delay', '<=', 0], ['distance', '==', 1000], ['origin', '==', 'SFO'], ['origin', '!=', 'SFO'], ['origin', '==', 'NOWHERE'],
  ] as const)('%s %s %s keeps the rows a JS loop keeps, in order', async (column, op, value) => {
    const test = { '>': (a: unknown) => (a as number) > (value as number), '<=': (a: unknown) => (a as number) <= (value as number), '==': (a: unknown) => a === value, '!=': (a: unknown) => a !== value }[op];
    const expected = ref.filter((r) => test(r[column])).map((r) => r.distance);
    expectColumn(await (await flights()).filter(column, op, value).select('distance').collect(), 'distance', expected);
  });

  it('by a user kernel keeps the rows it returns non-zero for', async () => {
    const long = kernel('long', function (d: number[]) {
      return d[this.thread.x]! > 1000 ? 1 : 0;
    });
    const got = await (await flights()).filter(long, ['distance']).select('delay').collect();
    expectColumn(got, 'delay', ref.filter((r) => r.distance > 1000).map((r) => r.delay));
  });

  it('drops rows where the column is null', async () => {
    const t = await td.fromArrow(arrowTable({ v: arrow.vectorFromArray([1, null, 3, null, 5], new arrow.Float64()) }));
    expect(await t.filter('v', '!=', 3).toRows()).toEqual([{ v: 1 }, { v: 5 }]);
    expect(await t.filter('v', '>=', 0).count()).toBe(3);
  });

  it('counts the rows after a select of columns the count does not read', async () => {
    const t = await td.fromArrow(arrowTable({ a: Float64Array.from([1, 2, 3]), b: Int32Array.from([4, 5, 6]) }));
    expect(await t.select('b').count()).toBe(3);
    expect(await t.filter('a', '>', 1).select('b').count()).toBe(2);
  });

  it('compares large batches in the workers: the same rows, nulls dropped, for a count and for the columns after it', async () => {
    // Batches of ≥ 65,536 rows go to the workers; a count asks them for no row list.
    const n = 150_000;
    const values = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : ((i * 7919) % 1000) - 500));
    const t = await td.fromArrow(arrowTable({ v: arrow.vectorFromArray(values, new arrow.Float64()), i: Int32Array.from({ length: n }, (_, i) => i) }));
    const passing = values.flatMap((v, i) => (v !== null && v > 100 ? [i] : []));
    expect(await t.filter('v', '>', 100).count()).toBe(passing.length);
    const got = (await t.filter('v', '>', 100).select('i').collect()).columns.get('i')!.values.data;
    expect(Array.from(got)).toEqual(passing);
    expect(await t.filter('v', '==', 0).count()).toBe(values.filter((v) => v === 0).length);
  });
});

describe('withColumn', () => {
  async function checkKm(session: Tandem): Promise<void> {
    const t = (await session.read(FLIGHTS_3M)).limit(N).withColumn('km', km, ['distance']);
    expect(t.schema.get('km')).toBe('float32');
    const got = await t.collect();
    const out = got.columns.get('km')!.values.data;
    let wrong = 0;
    for (let i = 0; i < N; i++) if (!closeF32(out[i]!, ref[i]!.distance * 1.609344)) wrong++;
    expect(wrong).toBe(0);
    expect(got.columns.get('km')!.validity).toBeUndefined();
  }

  it('computes miles → km on CPU workers within float32 rounding of JS', async () => {
    await checkKm(td);
  });

  it('computes miles → km on a GPU within float32 rounding of JS (skipped without an adapter unless TANDEM_REQUIRE_GPU=1)', async (ctx) => {
    // User kernels run on gpu.js (WebGPU runs the built-in kernels only); policy 'gpu': every row on the GPU.
    const gpu = await Tandem.create({ workers: 1, backends: ['cpu', 'gpujs'], policy: 'gpu', costCache: false }).catch((e: Error) => e);
    if (gpu instanceof Error || gpu.unavailable.length > 0) {
      const why = gpu instanceof Error ? gpu.message : JSON.stringify(gpu.unavailable);
      if (!(gpu instanceof Error)) await gpu.close();
      if (process.env.TANDEM_REQUIRE_GPU === '1') throw new Error(`TANDEM_REQUIRE_GPU=1 but no GPU: ${why}`);
      ctx.skip(`no GPU adapter: ${why}`);
      return;
    }
    try {
      await checkKm(gpu);
      expect(gpu.explain()).toMatch(/gpujs:0\s+user:km/);
      expect(gpu.explain()).not.toMatch(/\bcpu\s+user:km/);
    } finally {
      await gpu.close();
    }
  });

  it('reads float64 columns in full on CPU workers (no float32 rounding of the inputs)', async () => {
    // 1e8 + 1 has no float32: as float32 inputs both columns would be 1e8 and the difference 0.
    const diff = kernel('diff', function (a: number[], b: number[]) {
      return a[this.thread.x]! - b[this.thread.x]!;
    });
    const t = await td.fromArrow(arrowTable({ a: arrow.vectorFromArray([1e8 + 1, 2.5], new arrow.Float64()), b: arrow.vectorFromArray([1e8, 0.5], new arrow.Float64()) }));
    const rows = await t.withColumn('d', diff, ['a', 'b']).toRows();
    expect(rows.map((r) => r.d)).toEqual([1, 2]);
  });

  it('is null where an input is null', async () => {
    const t = await td.fromArrow(arrowTable({ m: arrow.vectorFromArray([1, null, 10], new arrow.Float64()) }));
    const rows = await t.withColumn('km', km, ['m']).toRows();
    expect(rows.map((r) => r.km)).toEqual([Math.fround(1.609344), null, Math.fround(16.09344)]);
  });
});

describe('groupBy.agg', () => {
  it('gives every aggregation DuckDB gives, per origin', async () => {
    const t = (await flights()).groupBy('origin').agg({ delay: ['count', 'sum', 'mean', 'min', 'max', 'std'] });
    expect([...t.schema]).toEqual([['origin', 'string'], ['delay_count', 'int32'], ['delay_sum', 'float64'], ['delay_mean', 'float64'], ['delay_min', 'float64'], ['delay_max', 'float64'], ['delay_std', 'float64']]);
    const rows = await t.toRows();
    const sql = await db.rows(`select origin, count(delay)::double c, sum(delay)::double s, avg(delay) m, min(delay)::double lo, max(delay)::double hi, stddev_samp(delay) sd from ${SLICE} group by origin`);
    expect(rows.length).toBe(sql.length);
    const byOrigin = new Map(sql.map((r) => [r.origin, r]));
    for (const r of rows) {
      const e = byOrigin.get(r.origin)!;
      expect(r.delay_count).toBe(e.c);
      expect(r.delay_sum).toBe(e.s);
      expect(r.delay_mean).toBeCloseTo(e.m as number, 9);
      expect(r.delay_min).toBe(e.lo);
      expect(r.delay_max).toBe(e.hi);
      if (e.sd === null) expect(r.delay_std).toBeNaN();
      else expect(Math.abs((r.delay_std as number) - (e.sd as number))).toBeLessThan(1e-6 * Math.max(1, e.sd as number));
    }
  });

  it('groups by two keys (origin, destination) as DuckDB does', async () => {
    const rows = await (await flights()).groupBy(['origin', 'destination']).agg({ distance: 'mean', delay: ['count', 'max'] }).toRows();
    const sql = await db.rows(`select origin, destination, avg(distance) d, count(delay)::double c, max(delay)::double hi from ${SLICE} group by all`);
    expect(rows.length).toBe(sql.length);
    const key = (r: Record<string, unknown>) => `${r.origin}→${r.destination}`;
    const e = new Map(sql.map((r) => [key(r), r]));
    for (const r of rows) {
      const x = e.get(key(r))!;
      expect(r.distance_mean).toBeCloseTo(x.d as number, 9);
      expect(r.delay_count).toBe(x.c);
      expect(r.delay_max).toBe(x.hi);
    }
  });

  it('two string keys: groups stay the same across batches with and without null keys', async () => {
    const part = (a: (string | null)[], b: string[]) => arrowTable({ a: arrow.vectorFromArray(a, new arrow.Utf8()), b: arrow.vectorFromArray(b, new arrow.Utf8()), v: Float64Array.from(a, () => 1) });
    // Batches 1 and 3 have no nulls (a table of code pairs), batch 2 has one (the general path).
    const whole = part(['a', 'b', 'a'], ['x', 'y', 'x']).concat(part(['a', null, 'b'], ['x', 'y', 'y']), part(['b', 'c', 'a'], ['y', 'z', 'x']));
    expect(whole.batches.length).toBe(3);
    const t = await td.fromArrow(whole);
    expect(await t.groupBy(['a', 'b']).agg({ v: 'count' }).toRows()).toEqual([
      { a: 'a', b: 'x', v_count: 4 }, { a: 'b', b: 'y', v_count: 3 }, { a: null, b: 'y', v_count: 1 }, { a: 'c', b: 'z', v_count: 1 },
    ]);
  });

  it('puts null keys in a group of their own and counts only non-null values', async () => {
    const t = await td.fromArrow(arrowTable({
      k: arrow.vectorFromArray(['a', null, 'b', 'a', null], new arrow.Utf8()),
      n: arrow.vectorFromArray([1, 2, null, 2, 0], new arrow.Int32()), // the null's slot holds 0: it must not join the group of 0
      v: arrow.vectorFromArray([1, 2, 3, null, 5], new arrow.Float64()),
    }));
    expect(await t.groupBy('k').agg({ v: ['count', 'sum', 'min'] }).toRows()).toEqual([
      { k: 'a', v_count: 1, v_sum: 1, v_min: 1 },
      { k: null, v_count: 2, v_sum: 7, v_min: 2 },
      { k: 'b', v_count: 1, v_sum: 3, v_min: 3 },
    ]);
    const byNumber = await t.groupBy(['n', 'k']).agg({ v: 'count' }).toRows();
    expect(byNumber).toEqual([
      { n: 1, k: 'a', v_count: 1 }, { n: 2, k: null, v_count: 1 }, { n: null, k: 'b', v_count: 1 }, { n: 2, k: 'a', v_count: 0 }, { n: 0, k: null, v_count: 1 },
    ]);
    expect(await t.groupBy('n').agg({ v: 'count' }).toRows()).toEqual([{ n: 1, v_count: 1 }, { n: 2, v_count: 1 }, { n: null, v_count: 1 }, { n: 0, v_count: 1 }]);
  });
});

describe('join', () => {
  it('inner and left joins of flights with airports on origin = iata match DuckDB', async () => {
    const airports = (await td.read(AIRPORTS)).select('iata', 'state', 'latitude');
    const inner = await (await flights()).select('origin', 'delay').join(airports, { on: 'origin', right: 'iata' }).collect();
    const [e] = await db.rows(`select count(*)::double n, sum(a.latitude) lat, count(distinct a.state)::double states from ${SLICE} f join read_csv('${AIRPORTS}') a on f.origin = a.iata`);
    expect(inner.rows).toBe(e!.n);
    expect([...inner.columns.keys()]).toEqual(['origin', 'delay', 'state', 'latitude']);
    expect((inner.columns.get('latitude')!.values.data as Float64Array).reduce((a, v) => a + v, 0)).toBeCloseTo(e!.lat as number, 3);

    // A left table with codes the airports lack: inner drops them, left keeps them with nulls.
    const left = await td.fromArrow(arrowTable({ code: arrow.vectorFromArray(['SFO', 'ZZZ', null, 'LAX', 'SFO'], new arrow.Utf8()), i: Int32Array.from([0, 1, 2, 3, 4]) }));
    const lat = new Map((await db.rows(`select iata, latitude from read_csv('${AIRPORTS}') where iata in ('SFO', 'LAX')`)).map((r) => [r.iata, r.latitude]));
    expect(await left.join(airports.select('iata', 'latitude'), { on: 'code', right: 'iata' }).toRows()).toEqual([
      { code: 'SFO', i: 0, latitude: lat.get('SFO') }, { code: 'LAX', i: 3, latitude: lat.get('LAX') }, { code: 'SFO', i: 4, latitude: lat.get('SFO') },
    ]);
    expect(await left.join(airports.select('iata', 'latitude'), { on: 'code', right: 'iata', how: 'left' }).toRows()).toEqual([
      { code: 'SFO', i: 0, latitude: lat.get('SFO') }, { code: 'ZZZ', i: 1, latitude: null }, { code: null, i: 2, latitude: null }, { code: 'LAX', i: 3, latitude: lat.get('LAX') }, { code: 'SFO', i: 4, latitude: lat.get('SFO') },
    ]);
  });

  it('a lookup on a string key without nulls (one pass per batch): misses dropped by inner, kept as nulls by left', async () => {
    const airports = (await td.read(AIRPORTS)).select('iata', 'latitude');
    const lat = new Map((await db.rows(`select iata, latitude from read_csv('${AIRPORTS}') where iata in ('SFO', 'LAX')`)).map((r) => [r.iata, r.latitude]));
    const codes = await td.fromArrow(arrowTable({ code: arrow.vectorFromArray(['SFO', 'ZZZ', 'LAX', 'QQQ', 'SFO'], new arrow.Utf8()), i: Int32Array.from([0, 1, 2, 3, 4]) }));
    expect(await codes.join(airports, { on: 'code', right: 'iata' }).toRows()).toEqual([
      { code: 'SFO', i: 0, latitude: lat.get('SFO') }, { code: 'LAX', i: 2, latitude: lat.get('LAX') }, { code: 'SFO', i: 4, latitude: lat.get('SFO') },
    ]);
    expect(await codes.join(airports, { on: 'code', right: 'iata', how: 'left' }).toRows()).toEqual([
      { code: 'SFO', i: 0, latitude: lat.get('SFO') }, { code: 'ZZZ', i: 1, latitude: null }, { code: 'LAX', i: 2, latitude: lat.get('LAX') }, { code: 'QQQ', i: 3, latitude: null }, { code: 'SFO', i: 4, latitude: lat.get('SFO') },
    ]);
    // Every row matched: the left columns pass through as they are.
    const all = await codes.filter('i', '!=', 1).filter('i', '!=', 3).join(airports, { on: 'code', right: 'iata' }).toRows();
    expect(all.map((r) => r.i)).toEqual([0, 2, 4]);
  });

  it('a lookup of a batch large enough for the workers gives what the same lookup gives here, misses or not', async () => {
    const airports = (await td.read(AIRPORTS)).select('iata', 'latitude');
    const lat = new Map((await db.rows(`select iata, latitude from read_csv('${AIRPORTS}') where iata in ('SFO', 'LAX')`)).map((r) => [r.iata, r.latitude]));
    const n = 150_000; // one batch, over the 65,536 rows a worker takes
    const names = ['SFO', 'ZZZ', 'LAX'];
    const codes = await td.fromArrow(arrowTable({ code: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => names[i % 3]!), new arrow.Utf8()), i: Int32Array.from({ length: n }, (_, i) => i) }));
    const expectRows = (rows: Array<Record<string, unknown>>, how: 'inner' | 'left') => {
      const want = Array.from({ length: n }, (_, i) => ({ code: names[i % 3], i, latitude: lat.get(names[i % 3]!) ?? null }));
      expect(rows).toEqual(how === 'inner' ? want.filter((r) => r.code !== 'ZZZ') : want);
    };
    expectRows(await codes.join(airports, { on: 'code', right: 'iata' }).toRows(), 'inner');
    expectRows(await codes.join(airports, { on: 'code', right: 'iata', how: 'left' }).toRows(), 'left');
    // Every row matched: the worker gathers the right columns itself.
    const matched = await codes.filter('code', '!=', 'ZZZ').join(airports, { on: 'code', right: 'iata' }).toRows();
    expect(matched.length).toBe((2 * n) / 3);
    expect(matched.every((r) => r.latitude === lat.get(r.code as string))).toBe(true);
  });

  it('gives a row per match when the right key repeats, and suffixes clashing names', async () => {
    const left = await td.fromArrow(arrowTable({ k: Int32Array.from([1, 2, 3]), v: Float64Array.from([10, 20, 30]) }));
    const right = await td.fromArrow(arrowTable({ k: Float64Array.from([2, 1, 2]), v: Float64Array.from([0.1, 0.2, 0.3]) }));
    expect(await left.join(right, { on: 'k' }).toRows()).toEqual([{ k: 1, v: 10, v_right: 0.2 }, { k: 2, v: 20, v_right: 0.1 }, { k: 2, v: 20, v_right: 0.3 }]);
  });
});

describe('sort', () => {
  it('orders numbers ascending and descending like a JS sort, stably', async () => {
    const t = (await td.read(FLIGHTS_3M)).limit(20_000).select('delay', 'distance');
    const asc = await t.sort('delay').toRows();
    const idx = ref.slice(0, 20_000).map((r, i) => ({ ...r, i }));
    expect(asc.map((r) => r.distance)).toEqual([...idx].sort((a, b) => a.delay - b.delay || a.i - b.i).map((r) => r.distance));
    const desc = await t.sort('delay', { descending: true }).toRows();
    expect(desc.map((r) => r.distance)).toEqual([...idx].sort((a, b) => b.delay - a.delay || a.i - b.i).map((r) => r.distance));
  });

  it('orders strings by their text (not their codes), nulls last either way, stable', async () => {
    const t = await td.fromArrow(arrowTable({
      s: arrow.vectorFromArray(['b', null, 'a', 'c', 'a', null, 'B'], new arrow.Utf8()),
      i: Int32Array.from([0, 1, 2, 3, 4, 5, 6]),
    }));
    expect((await t.sort('s').toRows()).map((r) => r.i)).toEqual([6, 2, 4, 0, 3, 1, 5]);
    expect((await t.sort('s', { descending: true }).toRows()).map((r) => r.i)).toEqual([3, 0, 2, 4, 6, 1, 5]);
    const n = await td.fromArrow(arrowTable({ v: arrow.vectorFromArray([2, null, NaN, -1, 2], new arrow.Float64()), i: Int32Array.from([0, 1, 2, 3, 4]) }));
    expect((await n.sort('v', { descending: true }).toRows()).map((r) => r.i)).toEqual([0, 4, 3, 1, 2]);
  });
});

describe('limit', () => {
  it('stops reading early: a bad row far after the first n is never reached', async () => {
    const path = tmp.path('bad-at-end.csv');
    writeFileSync(path, `x,y\n${Array.from({ length: 100_000 }, (_, i) => `${i},${i * 2}`).join('\n')}\noops,0\n`);
    const t = await td.read(path, { batchRows: 1000 });
    await expect(t.count()).rejects.toThrow(/row 100002/);
    expect(await t.limit(1500).count()).toBe(1500);
    expect(await t.limit(3).toRows()).toEqual([{ x: 0, y: 0 }, { x: 1, y: 2 }, { x: 2, y: 4 }]);
    const rows = await t.limit(5).filter('x', '>', 1).count({ maxQueuedBytes: 64_000 });
    expect(rows).toBe(3);
    expect(lastRun(td).stages[0]!.rowsOut).toBeLessThan(20_000);
    expect(await t.limit(0).count()).toBe(0);
  });
});

describe('mapBatches, select, rename', () => {
  it('a task module in the workers adds the hour of the day, as JS computes it', async () => {
    const t = (await flights()).mapBatches(dataTasks, 'hourOf', { output: { hour: 'int32' } }).select('hour', 'origin');
    expect([...t.schema]).toEqual([['hour', 'int32'], ['origin', 'string']]);
    const got = await t.collect();
    const hour = got.columns.get('hour')!.values.data;
    let wrong = 0;
    for (let i = 0; i < N; i++) if (hour[i] !== new Date(ref[i]!.date).getUTCHours()) wrong++;
    expect(wrong).toBe(0);
  });

  it('string output columns and nulls from a task', async () => {
    const t = await td.fromArrow(arrowTable({ delay: arrow.vectorFromArray([20, null, -3, 16], new arrow.Float64()) }));
    expect((await t.mapBatches(dataTasks, 'lateness', { output: { label: 'string' } }).toRows()).map((r) => r.label)).toEqual(['late', null, 'on time', 'late']);
  });

  it('select reorders, rename renames, and the data follows', async () => {
    const t = (await td.read(FLIGHTS_3M)).limit(3).select('origin', 'delay').rename({ origin: 'from', delay: 'late_by' });
    expect(t.columns).toEqual(['from', 'late_by']);
    expect(await t.toRows()).toEqual(ref.slice(0, 3).map((r) => ({ from: r.origin, late_by: r.delay })));
  });
});
