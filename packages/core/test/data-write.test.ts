/**
 * table.write: Parquet, Arrow and CSV files read back equal (by session.td().read, and the Parquet by DuckDB
 * and the Arrow by apache-arrow), and a run that fails or is aborted midway leaves no file, no
 * temporary file, and an existing target as it was.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import '@tandem/backends';
import { Tandem } from '../src/index.ts';
import type { Table } from '../src/data/index.ts';
import { arrowTable, dataSession, dataTasks, duckdb, FLIGHTS_3M, tempDir } from './data-helpers.ts';

const session = dataSession();
const tmp = session.tmp;

/** A small table with a null in every column and every column type. */
async function withNulls(): Promise<Table> {
  const t = arrowTable({
    f64: arrow.vectorFromArray([1.5, null, -3, 1e300], new arrow.Float64()),
    f32: arrow.vectorFromArray([0.5, 2, null, -1], new arrow.Float32()),
    i32: arrow.vectorFromArray([1, -2, 3, null], new arrow.Int32()),
    u8: arrow.vectorFromArray([null, 255, 0, 7], new arrow.Uint8()),
    ok: arrow.vectorFromArray([true, null, false, true], new arrow.Bool()),
    at: arrow.vectorFromArray([new Date(Date.UTC(2001, 0, 1, 0, 1)), new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999)), null, new Date(-86_400_000)], new arrow.TimestampMillisecond()),
    s: arrow.vectorFromArray(['a', 'has, "quotes"', null, 'multi\nline'], new arrow.Utf8()),
  });
  return session.td().fromArrow(t);
}

describe('round trips', () => {
  it.each(['parquet', 'arrow', 'csv'] as const)('%s: strings, nulls, timestamps and every type read back equal', async (format) => {
    const t = await withNulls();
    const path = tmp.path(`nulls.${format}`);
    await t.write(path);
    const back = await session.td().read(path);
    expect(await back.toRows()).toEqual(await t.toRows());
    // CSV has no types: whole numbers come back as float64; the others keep every type.
    if (format !== 'csv') expect([...back.schema]).toEqual([...t.schema]);
    else expect([...back.schema]).toEqual([['f64', 'float64'], ['f32', 'float64'], ['i32', 'float64'], ['u8', 'float64'], ['ok', 'bool'], ['at', 'timestamp'], ['s', 'string']]);
  });

  it.each(['parquet', 'arrow', 'csv'] as const)('%s: 300,000 flights in several batches read back equal, row for row', async (format) => {
    const flights = (await session.td().read(FLIGHTS_3M)).limit(300_000);
    const path = tmp.path(`flights.${format}`);
    await flights.write(path);
    const [a, b] = await Promise.all([flights.collect(), (await session.td().read(path)).collect()]);
    expect(b.rows).toBe(300_000);
    for (const name of ['date', 'delay', 'distance']) {
      const x = a.columns.get(name)!.values.data, y = b.columns.get(name)!.values.data;
      let wrong = 0;
      for (let i = 0; i < a.rows; i++) if (x[i] !== y[i]) wrong++;
      expect(wrong, name).toBe(0);
    }
    for (const name of ['origin', 'destination']) {
      const x = a.columns.get(name)!, y = b.columns.get(name)!;
      let wrong = 0;
      for (let i = 0; i < a.rows; i++) if (x.dictionary!.values[x.values.data[i]!] !== y.dictionary!.values[y.values.data[i]!]) wrong++;
      expect(wrong, name).toBe(0);
    }
  });

  it('the Parquet file is what DuckDB reads, and the Arrow file what apache-arrow reads', async () => {
    const flights = (await session.td().read(FLIGHTS_3M)).limit(300_000);
    const pq = tmp.path('check.parquet');
    const ipc = tmp.path('check.arrow');
    await Promise.all([flights.write(pq), flights.write(ipc)]);
    const db = await duckdb();
    try {
      const [mine] = await db.rows(`select count(*)::double n, sum(delay)::double d, sum(epoch_ms(date))::double t, count(distinct origin)::double o from '${pq}'`);
      const [ref] = await db.rows(`select count(*)::double n, sum(delay)::double d, sum(epoch_ms(date))::double t, count(distinct origin)::double o from (select * from read_parquet('${FLIGHTS_3M}', file_row_number = true) where file_row_number < 300000)`);
      expect(mine).toEqual(ref);
    } finally {
      db.close();
    }
    const t = arrow.tableFromIPC(readFileSync(ipc));
    expect(t.numRows).toBe(300_000);
    expect(t.getChild('origin')!.get(299_999)).toBe((await flights.toRows()).at(-1)!.origin);
  });
});

describe('failures leave nothing behind', () => {
  /** A CSV of x = 0 … n-1, read in batches of 1000 rows. */
  async function numbers(n: number): Promise<Table> {
    const path = tmp.path(`x${n}.csv`);
    writeFileSync(path, `x\n${Array.from({ length: n }, (_, i) => i).join('\n')}\n`);
    return session.td().read(path, { batchRows: 1000 });
  }

  it.each(['parquet', 'arrow', 'csv'] as const)('%s: a mapBatches function throwing on the 3rd batch rejects the write; no file, no temp file, the old file intact', async (format) => {
    const t = (await numbers(10_000)).mapBatches(dataTasks, 'failAtRow', { output: { y: 'float64' }, concurrency: 1 });
    const dir = tempDir('tandem-write-fail-');
    try {
      const fresh = `${dir.dir}/new.${format}`;
      await expect(t.write(fresh)).rejects.toThrow(/failAtRow: row 2500 reached/);
      expect(readdirSync(dir.dir)).toEqual([]);
      const existing = dir.path(`old.${format}`);
      writeFileSync(existing, 'the old contents');
      await expect(t.write(existing)).rejects.toThrow(/failAtRow/);
      expect(readdirSync(dir.dir)).toEqual([`old.${format}`]);
      expect(readFileSync(existing, 'utf8')).toBe('the old contents');
    } finally {
      dir.remove();
    }
  });

  it('an abort mid-run rejects with the reason and leaves no file and no temp file', async () => {
    const t = await numbers(20_000);
    const dir = tempDir('tandem-write-abort-');
    try {
      const controller = new AbortController();
      const reason = new Error('stop here');
      const write = t.write(dir.path('out.csv'), { signal: controller.signal, maxQueuedBytes: 16_000, onProgress: (p) => p.rows >= 3000 && controller.abort(reason) });
      await expect(write).rejects.toBe(reason);
      expect(readdirSync(dir.dir)).toEqual([]);
      // Aborted before it starts: the same.
      await expect(t.write(dir.path('out.parquet'), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(readdirSync(dir.dir)).toEqual([]);
    } finally {
      dir.remove();
    }
  });
});
