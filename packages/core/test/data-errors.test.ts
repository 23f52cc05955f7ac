/**
 * Bad input: files that are missing, of no known format, truncated or corrupt, malformed rows, and
 * stages naming what isn't there. Each fails with an error naming the file/row/column or the
 * argument, and every terminal promise rejects (none hangs: the test timeout would say).
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '@tandem/backends';
import { ArgumentError, DataFormatError, kernel, Tandem } from '../src/index.ts';
import { dataSession, dataTasks, FLIGHTS_200K, FLIGHTS_3M } from './data-helpers.ts';

const session = dataSession();
const tmp = session.tmp;

/** The error a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('files', () => {
  it('a missing file, a directory and an unknown extension are ArgumentErrors naming the argument', async () => {
    expect(await failure(session.td().read(tmp.path('nope.parquet')))).toMatchObject({ name: 'ArgumentError', argument: 'pathOrUrl' });
    expect(await failure(session.td().read(tmp.dir))).toMatchObject({ argument: 'pathOrUrl' });
    writeFileSync(tmp.path('data.xyz'), 'a\n1\n');
    const e = await failure(session.td().read(tmp.path('data.xyz')));
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e).toMatchObject({ argument: 'options.format' });
    expect(await (await session.td().read(tmp.path('data.xyz'), { format: 'csv' })).toRows()).toEqual([{ a: 1 }]);
    expect(await failure(session.td().read(tmp.path('data.xyz'), { format: 'csv', batchRows: 0 }))).toMatchObject({ argument: 'options.batchRows' });
  });

  it('a truncated Parquet file fails at read, naming the file', async () => {
    const path = tmp.path('cut.parquet');
    writeFileSync(path, readFileSync(FLIGHTS_3M).subarray(0, 1_000_000));
    const e = await failure(session.td().read(path));
    expect(e).toBeInstanceOf(DataFormatError);
    expect((e as DataFormatError).file).toBe(path);
  });

  // parquet-wasm traps ('RuntimeError: unreachable') on this file and its read never settles:
  // the row group decodes in a worker, which crashes, so the read fails instead of hanging.
  it('a Parquet file corrupt in its first row group fails when the rows are read, naming the file and the row', async () => {
    const bytes = Buffer.from(readFileSync(FLIGHTS_3M));
    bytes.fill(0xa5, 100_000, 140_000);
    const path = tmp.path('corrupt.parquet');
    writeFileSync(path, bytes);
    const t = await session.td().read(path);
    const e = await failure(t.count());
    expect(e).toBeInstanceOf(DataFormatError);
    expect(e).toMatchObject({ file: path, row: 1 });
    // One worker: still decoded there, not in the main thread, where it would hang.
    const one = await Tandem.create({ workers: 1, backends: [], costCache: false });
    try {
      expect(await failure((await one.read(path)).count())).toBeInstanceOf(DataFormatError);
    } finally {
      await one.close();
    }
  });

  it('a truncated Arrow file or stream is a DataFormatError naming the file', async () => {
    const path = tmp.path('cut.arrow');
    writeFileSync(path, readFileSync(FLIGHTS_200K).subarray(0, 800_000));
    const e = await failure(session.td().read(path).then((t) => t.count()));
    expect(e).toBeInstanceOf(DataFormatError);
    expect((e as DataFormatError).file).toBe(path);
    writeFileSync(tmp.path('garbage.arrows'), 'not arrow at all');
    expect(await failure(session.td().read(tmp.path('garbage.arrows')).then((t) => t.count()))).toBeInstanceOf(DataFormatError);
  });
});

describe('malformed rows', () => {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => `${i},c${i % 3}`).join('\n');

  it('a CSV row with the wrong field count names the file and its line; skipBadRows skips and counts it', async () => {
    const path = tmp.path('fields.csv');
    writeFileSync(path, `n,s\n${rows(50)}\n1,2,3\n${rows(5)}\n`);
    const e = await failure((await session.td().read(path, { batchRows: 16 })).count());
    expect(e).toBeInstanceOf(DataFormatError);
    expect(e).toMatchObject({ file: path, row: 52, column: undefined });
    expect(e.message).toMatch(/expected 2 fields, found 3/);
    const t = await session.td().read(path, { skipBadRows: true });
    expect(await t.count()).toBe(55);
    expect(t.skippedRows).toBe(1);
  });

  it('a non-number in a number column names the file, line and column', async () => {
    const path = tmp.path('nan.csv');
    writeFileSync(path, `n,s\n${rows(20)}\nnot-a-number,x\n${rows(3)}\nalso bad,y\n`);
    const e = await failure((await session.td().read(path, { inferRows: 10 })).toRows());
    expect(e).toMatchObject({ name: 'DataFormatError', file: path, row: 22, column: 'n' });
    const t = await session.td().read(path, { inferRows: 10, skipBadRows: true });
    expect(await t.count()).toBe(23);
    expect(t.skippedRows).toBe(2);
  });

  it('an unclosed quote and a line of bad JSON are DataFormatErrors', async () => {
    writeFileSync(tmp.path('quote.csv'), 'a,b\n1,"open\n2,3\n');
    expect(await failure(session.td().read(tmp.path('quote.csv')).then((t) => t.count()))).toBeInstanceOf(DataFormatError);
    writeFileSync(tmp.path('bad.jsonl'), `${'{"a":1}\n'.repeat(5)}{"a":\n{"a":2}\n`);
    expect(await failure(session.td().read(tmp.path('bad.jsonl'), { inferRows: 2 }).then((t) => t.count()))).toMatchObject({ name: 'DataFormatError', row: 6 });
    writeFileSync(tmp.path('array.jsonl'), '{"a":1}\n[1,2]\n');
    expect(await failure(session.td().read(tmp.path('array.jsonl')))).toMatchObject({ name: 'DataFormatError', row: 2 });
  });
});

describe('stages naming what is not there fail at the call, naming the argument', () => {
  it.each([
    ['select', (t: any) => t.select('delay', 'nope'), 'columns[1]'],
    ['rename', (t: any) => t.rename({ nope: 'x' }), 'mapping.nope'],
    ['filter column', (t: any) => t.filter('nope', '>', 1), 'column'],
    ['filter op', (t: any) => t.filter('delay', '~', 1), 'op'],
    ['filter string op', (t: any) => t.filter('origin', '<', 'SFO'), 'op'],
    ['filter value', (t: any) => t.filter('delay', '>', '15'), 'value'],
    ['groupBy', (t: any) => t.groupBy(['origin', 'nope']), 'keys[1]'],
    ['agg column', (t: any) => t.groupBy('origin').agg({ nope: 'sum' }), 'spec.nope'],
    ['agg of a string', (t: any) => t.groupBy('origin').agg({ destination: 'sum' }), 'spec.destination'],
    ['agg name', (t: any) => t.groupBy('origin').agg({ delay: 'median' }), 'spec.delay'],
    ['sort', (t: any) => t.sort('nope'), 'column'],
    ['limit', (t: any) => t.limit(-1), 'n'],
    ['withColumn over a timestamp', (t: any) => t.withColumn('x', kernel('k', function (a: number[]) { return a[this.thread.x]!; }), ['date']), 'columns[0]'],
    ['withColumn not a kernel', (t: any) => t.withColumn('x', (a: number) => a, ['delay']), 'kernel'],
    ['mapBatches output type', (t: any) => t.mapBatches(dataTasks, 'hourOf', { output: { hour: 'int64' } }), 'options.output.hour'],
    ['join key', (t: any) => t.join(t, { on: 'nope' }), 'options.on'],
    ['join key kinds', (t: any) => t.join(t.rename({ origin: 'o2', delay: 'd2', distance: 'x2', destination: 'y2', date: 'z2' }), { on: 'origin', right: 'd2' }), 'options.right'],
  ])('%s', async (_name, make, argument) => {
    const t = await session.td().read(FLIGHTS_3M);
    let error: unknown;
    try {
      make(t);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as ArgumentError).argument).toBe(argument);
  });

  it('toTrainData and run options are checked before anything runs', async () => {
    const t = await session.td().read(FLIGHTS_3M);
    expect(await failure(t.toTrainData({ features: ['delay', 'nope'], label: 'origin' }))).toMatchObject({ argument: 'options.features[1]' });
    expect(await failure(t.count({ maxQueuedBytes: 0 }))).toMatchObject({ argument: 'options.maxQueuedBytes' });
  });
});

describe('failures while running reject the terminal promise', () => {
  it('a mapBatches function that throws', async () => {
    const path = tmp.path('x.csv');
    writeFileSync(path, `x\n${Array.from({ length: 5000 }, (_, i) => i).join('\n')}\n`);
    const t = (await session.td().read(path, { batchRows: 500 })).mapBatches(dataTasks, 'failAtRow', { output: { y: 'float64' } });
    for (const run of [() => t.count(), () => t.toArrow(), () => t.groupBy('x').agg({ y: 'sum' }).toRows(), () => t.sort('y').collect()]) {
      expect(await failure(run())).toMatchObject({ name: 'RangeError', message: expect.stringMatching(/failAtRow/) });
    }
    expect(await t.limit(2000).count()).toBe(2000); // stopped before the bad batch
  });

  it.each(['csv', 'jsonl'])('a %s file removed after it was opened', async (ext) => {
    const path = tmp.path(`gone.${ext}`);
    writeFileSync(path, ext === 'csv' ? 'a\n1\n' : '{"a":1}\n');
    const t = await session.td().read(path);
    unlinkSync(path);
    await expect(t.count()).rejects.toThrow(/ENOENT/);
  });
});
