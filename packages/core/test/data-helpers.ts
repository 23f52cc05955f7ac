/** Shared by the data-*.test.ts files: the real data files, a DuckDB connection as the reference, temp dirs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as arrow from 'apache-arrow';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll } from 'vitest';
import { Tandem } from '../src/index.ts';
import type { PipelineRun } from '../src/data/index.ts';

const DATA = fileURLToPath(new URL('../../../node_modules/vega-datasets/data/', import.meta.url));
export const FLIGHTS_3M = join(DATA, 'flights-3m.parquet');
export const FLIGHTS_200K = join(DATA, 'flights-200k.arrow');
export const AIRPORTS = join(DATA, 'airports.csv');
export const FLIGHTS_2K_JSON = join(DATA, 'flights-2k.json');

export const dataTasks = new URL('./fixtures/data-tasks.ts', import.meta.url);

/** A DuckDB in-memory database: `rows(sql)` gives plain JS rows (cast numbers to DOUBLE in the SQL to get numbers). */
export async function duckdb(): Promise<{ rows(sql: string): Promise<Record<string, unknown>[]>; close(): void }> {
  const instance = await DuckDBInstance.create(':memory:');
  const c: DuckDBConnection = await instance.connect();
  return {
    rows: async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[],
    close: () => {
      c.closeSync();
      instance.closeSync();
    },
  };
}

/** SQL for the first `n` rows of a Parquet file, in file order. */
export const firstRows = (path: string, n: number) => `(select * from read_parquet('${path}', file_row_number = true) where file_row_number < ${n})`;

export function tempDir(prefix = 'tandem-data-'): { dir: string; path(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The session's last pipeline run (what explain() prints). */
export function lastRun(td: Tandem): PipelineRun {
  return td.lastPipelineRun()!;
}

/** |a - b| within float32 rounding of values of magnitude |b|. */
export function closeF32(a: number, b: number, ulps = 4): boolean {
  return Math.abs(a - b) <= ulps * 2 ** -23 * Math.max(1, Math.abs(b));
}

/** An apache-arrow table of vectors and typed arrays (tableFromArrays is typed for plain arrays only). */
export function arrowTable(columns: Record<string, arrow.Vector | Float64Array | Float32Array | Int32Array | BigInt64Array>): arrow.Table {
  return new arrow.Table(Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, v instanceof arrow.Vector ? v : arrow.makeVector(v as Float64Array)])));
}

/**
 * A session on 2 workers and the cpu backend, and a temporary directory, for the tests of one
 * file (or describe block): made before them, closed and removed after.
 */
export function dataSession(): { td: () => Tandem; tmp: ReturnType<typeof tempDir> } {
  let td: Tandem | undefined;
  const tmp = tempDir();
  beforeAll(async () => {
    td = await Tandem.create({ workers: 2, backends: ['cpu'], costCache: false });
  });
  afterAll(async () => {
    await td?.close();
    tmp.remove();
  });
  return { td: () => td!, tmp };
}
