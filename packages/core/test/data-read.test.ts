/**
 * td.read over each format, checked against an independent reader: DuckDB for Parquet and CSV,
 * apache-arrow's own reader for Arrow IPC, JSON.parse for JSON lines. Real files and real workers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tandem/backends';
import { ArgumentError, Tandem } from '../src/index.ts';
import type { Batch } from '../src/data/index.ts';
import { AIRPORTS, duckdb, FLIGHTS_200K, FLIGHTS_2K_JSON, FLIGHTS_3M, firstRows, tempDir, arrowTable } from './data-helpers.ts';

let td: Tandem;
let db: Awaited<ReturnType<typeof duckdb>>;
const tmp = tempDir();
beforeAll(async () => {
  td = await Tandem.create({ workers: 2, backends: ['cpu'], costCache: false });
  db = await duckdb();
});
afterAll(async () => {
  db?.close();
  await td?.close();
  tmp.remove();
});

/** The first `n` batches of a table (then the run is stopped). */
async function firstBatches(t: { batches(o?: object): AsyncGenerator<Batch> }, n: number, options: object = {}): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of t.batches(options)) {
    out.push(b);
    if (out.length === n) break;
  }
  return out;
}

describe('Parquet (flights-3m)', () => {
  it('has the schema DuckDB reports, its row count up front, and the first rows DuckDB reads', async () => {
    const flights = await td.read(FLIGHTS_3M);
    expect([...flights.schema]).toEqual([['date', 'timestamp'], ['delay', 'float64'], ['distance', 'float64'], ['origin', 'string'], ['destination', 'string']]);
    const [{ n }] = (await db.rows(`select count(*)::double as n from '${FLIGHTS_3M}'`)) as [{ n: number }];
    let total: number | undefined;
    await firstBatches(flights, 1, { onProgress: (p: { totalRows?: number }) => (total = p.totalRows) });
    expect(total).toBe(n);
    expect(n).toBe(3_000_000);

    const head = await flights.limit(5).toRows();
    const ref = await db.rows(`select epoch_ms(date)::double as date, delay::double as delay, distance::double as distance, origin, destination from ${firstRows(FLIGHTS_3M, 5)} order by file_row_number`);
    expect(head).toEqual(ref.map((r) => ({ ...r, date: new Date(r.date as number) })));
  });

  it('decodes whole row groups equal to DuckDB (sums, distinct strings, spot rows), with one dictionary per string column across batches', async () => {
    const flights = await td.read(FLIGHTS_3M);
    const batches = await firstBatches(flights, 2);
    expect(batches).toHaveLength(2);
    const n = batches[0]!.rows + batches[1]!.rows;
    const sum = (name: string) => batches.reduce((s, b) => s + (b.columns.get(name)!.values.data as Float64Array).reduce((a, v) => a + v, 0), 0);
    const [ref] = (await db.rows(`select sum(delay)::double as delay, sum(distance)::double as distance, sum(epoch_ms(date))::double as date,
      count(distinct origin)::double as origins, count(*)::double as n from ${firstRows(FLIGHTS_3M, n)}`)) as [Record<string, number>];
    expect(ref.n).toBe(n);
    expect(sum('delay')).toBe(ref.delay);
    expect(sum('distance')).toBe(ref.distance);
    expect(sum('date')).toBe(ref.date);

    const [o0, o1] = batches.map((b) => b.columns.get('origin')!);
    expect(o0!.dictionary).toBeDefined();
    expect(o1!.dictionary).toBe(o0!.dictionary); // one dictionary, shared across batches
    expect(o0!.dictionary).not.toBe(batches[0]!.columns.get('destination')!.dictionary);
    const seen = new Set<number>();
    for (const c of [o0!, o1!]) for (const code of c.values.data) seen.add(code);
    expect(seen.size).toBe(ref.origins);

    // Spot rows in both batches, by file position.
    const at = [0, 1, 12_345, batches[0]!.rows - 1, batches[0]!.rows, n - 1];
    const rows = await db.rows(`select file_row_number::double as i, origin, destination, delay::double as delay from ${firstRows(FLIGHTS_3M, n)} where file_row_number in (${at.join(',')}) order by file_row_number`);
    for (const r of rows) {
      const i = r.i as number;
      const b = i < batches[0]!.rows ? batches[0]! : batches[1]!;
      const j = b === batches[0] ? i : i - batches[0]!.rows;
      const dict = b.columns.get('origin')!.dictionary!;
      expect(dict.values[b.columns.get('origin')!.values.data[j]!]).toBe(r.origin);
      expect(b.columns.get('destination')!.dictionary!.values[b.columns.get('destination')!.values.data[j]!]).toBe(r.destination);
      expect(b.columns.get('delay')!.values.data[j]).toBe(r.delay);
    }
  });
});

describe('Parquet row groups (rowGroups)', () => {
  it('reads only the row groups asked for, in that order: rows and sums as the whole file has them there', async () => {
    const whole = await firstBatches(await td.read(FLIGHTS_3M), 3);
    const some = await td.read(FLIGHTS_3M, { rowGroups: [2, 0] });
    expect(await some.count()).toBe(whole[2]!.rows + whole[0]!.rows);
    const got = await firstBatches(some, 10);
    expect(got.map((b) => b.rows)).toEqual([whole[2]!.rows, whole[0]!.rows]);
    const sum = (b: Batch) => (b.columns.get('delay')!.values.data as Float64Array).reduce((a, v) => a + v, 0);
    expect(got.map(sum)).toEqual([sum(whole[2]!), sum(whole[0]!)]);
  });

  it('refuses a row group the file lacks, and rowGroups or shared on a format without row groups', async () => {
    await expect(td.read(FLIGHTS_3M, { rowGroups: [99] })).rejects.toSatisfy((e: unknown) => e instanceof ArgumentError && e.argument === 'options.rowGroups' && /0 to 10/.test(e.message));
    await expect(td.read(FLIGHTS_3M, { rowGroups: [-1] })).rejects.toSatisfy((e: unknown) => e instanceof ArgumentError && e.argument === 'options.rowGroups');
    await expect(td.read(AIRPORTS, { rowGroups: [0] })).rejects.toSatisfy((e: unknown) => e instanceof ArgumentError && e.argument === 'options.rowGroups');
    await expect(td.read(AIRPORTS, { shared: true })).rejects.toSatisfy((e: unknown) => e instanceof ArgumentError && e.argument === 'options.shared');
  });
});

describe('Arrow IPC', () => {
  it('reads an Arrow file (flights-200k) with the types (int16 widened to int32) and every value apache-arrow reads', async () => {
    const ref = arrow.tableFromIPC(readFileSync(FLIGHTS_200K));
    const t = await td.read(FLIGHTS_200K);
    expect([...t.schema]).toEqual([['delay', 'int32'], ['distance', 'int32'], ['time', 'float32']]);
    const all = await t.collect();
    expect(all.rows).toBe(ref.numRows);
    expect(all.rows).toBe(200_000);
    for (const name of ['delay', 'distance', 'time']) {
      const mine = all.columns.get(name)!.values.data;
      const theirs = ref.getChild(name)!.toArray() as Int32Array | Float32Array;
      expect(mine.length).toBe(theirs.length);
      let wrong = 0;
      for (let i = 0; i < theirs.length; i++) if (mine[i] !== theirs[i]) wrong++;
      expect(wrong).toBe(0);
    }
  });

  it('reads an Arrow stream of several batches: strings in one dictionary, nulls as validity, int64, bool and timestamps', async () => {
    const batch = (offset: number) => arrowTable({
      id: BigInt64Array.from({ length: 4 }, (_, i) => BigInt(offset + i)),
      name: arrow.vectorFromArray(['a', null, 'b', `x${offset}`], new arrow.Utf8()),
      score: arrow.vectorFromArray([1.5, null, -2, 0.25], new arrow.Float64()),
      ok: arrow.vectorFromArray([true, false, null, true], new arrow.Bool()),
      at: arrow.vectorFromArray([new Date(Date.UTC(2024, 0, 1)), null, new Date(Date.UTC(2024, 5, 30, 12)), new Date(0)], new arrow.TimestampMillisecond()),
    }).batches[0]!;
    const table = new arrow.Table([batch(0), batch(4), batch(8)]);
    const path = tmp.path('three.arrows');
    writeFileSync(path, arrow.tableToIPC(table, 'stream'));
    const t = await td.read(path);
    expect([...t.schema]).toEqual([['id', 'float64'], ['name', 'string'], ['score', 'float64'], ['ok', 'bool'], ['at', 'timestamp']]);
    const batches = await firstBatches(t, 10);
    expect(batches.map((b) => b.rows)).toEqual([4, 4, 4]);
    expect(new Set(batches.map((b) => b.columns.get('name')!.dictionary)).size).toBe(1);
    expect(batches[0]!.columns.get('name')!.validity).toEqual(Uint8Array.from([1, 0, 1, 1]));
    expect(batches[0]!.columns.get('id')!.validity).toBeUndefined();
    const rows = await t.toRows();
    expect(rows).toEqual(table.toArray().map((r) => {
      const o = r.toJSON() as Record<string, unknown>;
      return { ...o, id: Number(o.id), at: o.at === null ? null : new Date(o.at as number) };
    }));
    expect(rows[9]).toEqual({ id: 9, name: null, score: null, ok: false, at: null });
  });
});

describe('CSV', () => {
  it('reads airports.csv: the columns, types, row count and values DuckDB reads', async () => {
    const t = await td.read(AIRPORTS);
    expect([...t.schema]).toEqual([['iata', 'string'], ['name', 'string'], ['city', 'string'], ['state', 'string'], ['country', 'string'], ['latitude', 'float64'], ['longitude', 'float64']]);
    const rows = await t.toRows();
    const ref = await db.rows(`select iata, name, city, state, country, latitude::double as latitude, longitude::double as longitude from read_csv('${AIRPORTS}', all_varchar = false) `);
    expect(rows.length).toBe(ref.length);
    expect(rows.length).toBe(3376);
    // DuckDB reads empty fields as NULL too.
    const byIata = new Map(ref.map((r) => [r.iata, r]));
    for (const r of rows) expect(r).toEqual(byIata.get(r.iata));
    expect(t.skippedRows).toBe(0);
  });

  it('reads quoting, empty fields as nulls, booleans, ISO dates, a BOM and CRLF; with small batches strings share a dictionary', async () => {
    const path = tmp.path('small.csv');
    writeFileSync(path, '\uFEFFname,n,flag,day,note\r\n'
      + 'plain,1,true,2024-01-02,"has, comma"\r\n'
      + '"quoted ""x""",,false,2024-01-02T03:04:05Z,"two\nlines"\r\n'
      + ',2.5,,,\r\n'
      + 'plain,-3e2,true,2024-02-29T10:00:00.5+02:00,last\r\n');
    const t = await td.read(path, { batchRows: 2 });
    expect([...t.schema]).toEqual([['name', 'string'], ['n', 'float64'], ['flag', 'bool'], ['day', 'timestamp'], ['note', 'string']]);
    expect(await t.toRows()).toEqual([
      { name: 'plain', n: 1, flag: true, day: new Date(Date.UTC(2024, 0, 2)), note: 'has, comma' },
      { name: 'quoted "x"', n: null, flag: false, day: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), note: 'two\nlines' },
      { name: null, n: 2.5, flag: null, day: null, note: null },
      { name: 'plain', n: -300, flag: true, day: new Date(Date.UTC(2024, 1, 29, 8, 0, 0, 500)), note: 'last' },
    ]);
    const batches = await firstBatches(t, 5);
    expect(batches.map((b) => b.rows)).toEqual([2, 2]);
    const names = batches.map((b) => b.columns.get('name')!);
    expect(names[1]!.dictionary).toBe(names[0]!.dictionary);
    expect(names[1]!.values.data[1]).toBe(names[0]!.values.data[0]); // 'plain' has one code in both batches
    expect(names[0]!.validity).toBeUndefined();
    expect(names[1]!.validity).toEqual(Uint8Array.from([0, 1]));
  });

  it('reads dates without an offset as UTC (as DuckDB and Parquet timestamps do), whatever the local time zone', async () => {
    const path = tmp.path('naive.csv');
    writeFileSync(path, 'ts\n2024-01-02T10:00:00\n2024-01-02 10:00\n2024-07-01 23:30:15.25\n');
    const ref = await db.rows(`select epoch_ms(ts)::double as ts from read_csv('${path}', columns = {'ts': 'TIMESTAMP'})`);
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const rows = await (await td.read(path)).toRows();
      expect(rows.map((r) => (r.ts as Date).getTime())).toEqual(ref.map((r) => r.ts));
      expect(ref[0]!.ts).toBe(Date.UTC(2024, 0, 2, 10));
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('reads a .tsv with tabs', async () => {
    const path = tmp.path('t.tsv');
    writeFileSync(path, 'a\tb\n1\tx y\n2\tz\n');
    expect(await (await td.read(path)).toRows()).toEqual([{ a: 1, b: 'x y' }, { a: 2, b: 'z' }]);
  });
});

describe('JSON lines', () => {
  it('reads flights-2k as JSON lines: every value JSON.parse reads, non-ISO dates as strings', async () => {
    const objects = JSON.parse(readFileSync(FLIGHTS_2K_JSON, 'utf8')) as Record<string, unknown>[];
    const path = tmp.path('flights.jsonl');
    writeFileSync(path, objects.map((o) => JSON.stringify(o)).join('\n') + '\n');
    const t = await td.read(path, { batchRows: 500 });
    expect([...t.schema]).toEqual([['date', 'string'], ['delay', 'float64'], ['distance', 'float64'], ['origin', 'string'], ['destination', 'string']]);
    expect(await t.toRows()).toEqual(objects);
    expect(await t.count()).toBe(objects.length);
  });

  it('takes columns from the first objects, in order of appearance: missing keys and nulls are nulls, blank lines skipped', async () => {
    const path = tmp.path('small.ndjson');
    writeFileSync(path, [
      '{"a": 1, "b": "x"}', '', '{"b": null, "c": true, "a": 2}', '{"a": null, "d": "2024-03-04"}', '{"a": 4, "b": "x", "c": false, "d": "2024-03-05T06:00:00Z"}',
    ].join('\n'));
    const t = await td.read(path);
    expect([...t.schema]).toEqual([['a', 'float64'], ['b', 'string'], ['c', 'bool'], ['d', 'timestamp']]);
    expect(await t.toRows()).toEqual([
      { a: 1, b: 'x', c: null, d: null },
      { a: 2, b: null, c: true, d: null },
      { a: null, b: null, c: null, d: new Date(Date.UTC(2024, 2, 4)) },
      { a: 4, b: 'x', c: false, d: new Date(Date.UTC(2024, 2, 5, 6)) },
    ]);
  });
});
