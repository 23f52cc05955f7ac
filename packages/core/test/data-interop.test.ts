/** Arrow in and out: toArrow() read by Arquero and by apache-arrow's IPC, td.fromArrow of tables built with apache-arrow. */
import * as aq from 'arquero';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tandem/backends';
import { ArgumentError, Tandem } from '../src/index.ts';
import { duckdb, FLIGHTS_3M, firstRows, arrowTable } from './data-helpers.ts';

let td: Tandem;
beforeAll(async () => {
  td = await Tandem.create({ workers: 2, backends: ['cpu'], costCache: false });
});
afterAll(async () => {
  await td?.close();
});

describe('toArrow', () => {
  it("gives a table Arquero computes on, with DuckDB's answers", async () => {
    const t = await (await td.read(FLIGHTS_3M)).limit(100_000).toArrow();
    expect(t.numRows).toBe(100_000);
    expect(t.getChild('origin')!.type).toBeInstanceOf(arrow.Dictionary);
    expect(t.getChild('date')!.type).toBeInstanceOf(arrow.TimestampMillisecond);
    const byOrigin = aq.fromArrow(t as never).groupby('origin').rollup({ n: aq.op.count(), delay: aq.op.sum('delay'), latest: aq.op.max('date') }).objects() as { origin: string; n: number; delay: number; latest: number | Date }[];
    const db = await duckdb();
    try {
      const ref = await db.rows(`select origin, count(*)::double n, sum(delay)::double delay, epoch_ms(max(date))::double latest from ${firstRows(FLIGHTS_3M, 100_000)} group by origin`);
      expect(byOrigin.length).toBe(ref.length);
      const e = new Map(ref.map((r) => [r.origin, r]));
      for (const r of byOrigin) {
        expect(r.n).toBe(e.get(r.origin)!.n);
        expect(r.delay).toBe(e.get(r.origin)!.delay);
        expect(+r.latest).toBe(e.get(r.origin)!.latest);
      }
    } finally {
      db.close();
    }
  });

  it('survives an IPC round trip through apache-arrow with nulls, bools and strings across batches', async () => {
    const src = await td.fromArrow(new arrow.Table([0, 1].map((k) => arrowTable({
      s: arrow.vectorFromArray([`a${k}`, null, 'shared'], new arrow.Utf8()),
      b: arrow.vectorFromArray([true, null, false], new arrow.Bool()),
      v: arrow.vectorFromArray([k, 1.5, null], new arrow.Float64()),
    }).batches[0]!)));
    const t = await src.toArrow();
    expect(t.batches.length).toBe(2);
    const back = arrow.tableFromIPC(arrow.tableToIPC(t, 'stream'));
    expect(back.toArray().map((r) => r.toJSON())).toEqual(await src.toRows());
    expect(await (await td.fromArrow(back)).toRows()).toEqual(await src.toRows());
  });
});

describe('fromArrow', () => {
  it('maps Arrow types to columns: ints widen, int64 and uint32 to float64, dates to timestamps, dictionaries to strings', async () => {
    const table = arrowTable({
      i8: arrow.vectorFromArray([-1, 2, null], new arrow.Int8()),
      i16: arrow.vectorFromArray([300, -300, 0], new arrow.Int16()),
      u32: arrow.vectorFromArray([4_000_000_000, 0, 1], new arrow.Uint32()),
      i64: arrow.vectorFromArray([2n ** 40n, -5n, null], new arrow.Int64()),
      day: arrow.vectorFromArray([new Date(Date.UTC(2020, 1, 29)), null, new Date(0)], new arrow.DateDay()),
      us: arrow.vectorFromArray([new Date(1_700_000_000_123), new Date(5), null], new arrow.TimestampMicrosecond()),
      dict: arrow.vectorFromArray(['x', 'y', 'x'], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
      f32: Float32Array.from([0.5, -1, 3]),
    });
    const t = await td.fromArrow(table);
    expect([...t.schema]).toEqual([['i8', 'int32'], ['i16', 'int32'], ['u32', 'float64'], ['i64', 'float64'], ['day', 'timestamp'], ['us', 'timestamp'], ['dict', 'string'], ['f32', 'float32']]);
    expect(await t.toRows()).toEqual([
      { i8: -1, i16: 300, u32: 4_000_000_000, i64: 2 ** 40, day: new Date(Date.UTC(2020, 1, 29)), us: new Date(1_700_000_000_123), dict: 'x', f32: 0.5 },
      { i8: 2, i16: -300, u32: 0, i64: -5, day: null, us: new Date(5), dict: 'y', f32: -1 },
      { i8: null, i16: 0, u32: 1, i64: null, day: new Date(0), us: null, dict: 'x', f32: 3 },
    ]);
  });

  it('rejects a column type it cannot hold, naming the column', async () => {
    const table = arrowTable({ ok: Float64Array.from([1]), list: arrow.vectorFromArray([[1, 2]]) });
    const e = await td.fromArrow(table).catch((error: unknown) => error);
    expect(e).toBeInstanceOf(ArgumentError);
    expect((e as ArgumentError).argument).toBe('table.list');
    expect(await td.fromArrow({} as arrow.Table).catch((error: ArgumentError) => error.argument)).toBe('table');
  });
});
