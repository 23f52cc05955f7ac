/**
 * The data bench's peers: the same five queries over flights-3m.parquet for Tandem's data API,
 * DuckDB (@duckdb/node-api), Polars (nodejs-polars) and Arquero, each written the way a user of
 * that library would write it. Every query has two variants:
 *
 * - `file`: the timing includes reading the Parquet file (DuckDB and Polars query the file
 *   directly; Tandem `td.read`s it; Arquero has no Parquet reader, so parquet-wasm decodes the file
 *   to Arrow IPC, as Tandem's reader does, and `aq.fromArrow` takes that).
 * - `memory`: each peer first materialises the table in its own memory (set-up, not timed), then
 *   runs the query on it. `kmOnly` runs only here: the flights already joined to both airports'
 *   coordinates are materialised too, and the query is the user function alone over them — the
 *   user-JS path by itself, without each engine's joins and reading around it.
 *
 * The airports lookup table (3,376 rows) is loaded once per peer at set-up for both variants.
 */
import { readFileSync } from 'node:fs';
import * as aq from 'arquero';
import { Tandem, kernel, type KernelThis, type Table as TdTable } from '@tandem/core';

export type Variant = 'file' | 'memory';
export type QueryName = 'load' | 'groupby' | 'filter' | 'udf' | 'kmOnly' | 'pipeline';

/** What a query returns, for the cross-peer check (never timed apart from the query itself). */
export interface QueryValue {
  /** Rows out (load, filter count, joined rows for udf). */
  readonly rows?: number;
  /** groupby: sum of the 229 mean delays; udf: sum of km over every joined flight. */
  readonly sum?: number;
  readonly groups?: number;
  /** pipeline: the top 10 routes, "ORG-DST count". */
  readonly top?: readonly string[];
  /** pipeline: mean km of the top route. */
  readonly topKm?: number;
}

export interface DataPeer {
  readonly id: string;
  /** The library's name, for the aggregation tables. */
  readonly name: string;
  /** How it runs the km function, for the udf and pipeline tables. */
  readonly label: string;
  /** Whether the udf/pipeline queries run a user JS function (false: a built-in expression). */
  readonly userJs: boolean;
  /** Queries this peer runs (a peer may skip some). */
  readonly queries: readonly QueryName[];
  run(query: QueryName, variant: Variant): Promise<QueryValue>;
  /** Materialises the flights table in the peer's memory for the `memory` variant. */
  loadMemory(): Promise<void>;
  close(): Promise<void>;
}

export const R_KM = 6371.0088;
const RAD = Math.PI / 180;

/** The user function every peer runs per row: great-circle (haversine) distance in km. */
export function greatCircleKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const s1 = Math.sin((lat2 - lat1) * RAD * 0.5);
  const s2 = Math.sin((lon2 - lon1) * RAD * 0.5);
  const a = s1 * s1 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * s2 * s2;
  return 2 * R_KM * Math.asin(Math.sqrt(a));
}

/** The same function as a Tandem kernel (one thread per row; float32 on GPUs). */
export const kmKernel = kernel('km', function (this: KernelThis, lat1: number[], lon1: number[], lat2: number[], lon2: number[]) {
  const i = this.thread.x;
  const d = 0.017453292519943295;
  const s1 = Math.sin((lat2[i]! - lat1[i]!) * d * 0.5);
  const s2 = Math.sin((lon2[i]! - lon1[i]!) * d * 0.5);
  const a = s1 * s1 + Math.cos(lat1[i]! * d) * Math.cos(lat2[i]! * d) * s2 * s2;
  return 2.0 * 6371.0088 * Math.asin(Math.sqrt(a));
});

export interface DataFiles {
  readonly flights: string;
  readonly airports: string;
}

/** parquet-wasm: the whole file → Arrow IPC stream bytes (Arquero's and the reference's reader). */
export async function parquetToIpc(path: string): Promise<Uint8Array> {
  const pw = await import('parquet-wasm/node');
  return pw.readParquet(new Uint8Array(readFileSync(path))).intoIPCStream();
}

// ---------------------------------------------------------------------------------------------
// Tandem

export async function tandemPeer(td: Tandem, files: DataFiles): Promise<DataPeer> {
  const airports = await td.fromArrow(await (await td.read(files.airports)).select('iata', 'latitude', 'longitude').toArrow(), 'airports');
  let memory: TdTable | undefined;
  let joinedMemory: TdTable | undefined;
  const source = async (variant: Variant) => (variant === 'file' ? td.read(files.flights) : memory!);
  const withKm = (t: TdTable) => t
    .join(airports.rename({ latitude: 'lat1', longitude: 'lon1' }), { on: 'origin', right: 'iata' })
    .join(airports.rename({ latitude: 'lat2', longitude: 'lon2' }), { on: 'destination', right: 'iata' })
    .withColumn('km', kmKernel, ['lat1', 'lon1', 'lat2', 'lon2']);
  return {
    id: 'tandem',
    name: 'Tandem',
    label: 'Tandem (withColumn with a kernel())',
    userJs: true,
    queries: ['load', 'groupby', 'filter', 'udf', 'kmOnly', 'pipeline'],
    async loadMemory() {
      // The brief's way: an Arrow table of Tandem's own collected columns (numbers wrap shared memory).
      memory = await td.fromArrow(await (await td.read(files.flights)).toArrow(), 'flights in memory');
      const joined = memory
        .join(airports.rename({ latitude: 'lat1', longitude: 'lon1' }), { on: 'origin', right: 'iata' })
        .join(airports.rename({ latitude: 'lat2', longitude: 'lon2' }), { on: 'destination', right: 'iata' })
        .select('lat1', 'lon1', 'lat2', 'lon2');
      joinedMemory = await td.fromArrow(await joined.toArrow(), 'joined flights in memory');
    },
    async run(query, variant) {
      const t = await source(variant);
      switch (query) {
        case 'load': {
          const b = await t.collect();
          return { rows: b.rows };
        }
        case 'groupby': {
          const rows = await t.groupBy('origin').agg({ delay: 'mean' }).toRows();
          return { groups: rows.length, sum: rows.reduce((s, r) => s + (r.delay_mean as number), 0) };
        }
        case 'filter':
          return { rows: await t.filter('delay', '>', 15).count() };
        case 'kmOnly':
        case 'udf': {
          let rows = 0;
          let sum = 0;
          const km = query === 'kmOnly' ? joinedMemory!.withColumn('km', kmKernel, ['lat1', 'lon1', 'lat2', 'lon2']) : withKm(t);
          for await (const b of km.select('km').batches()) {
            const km = b.columns.get('km')!.values.data;
            for (let i = 0; i < b.rows; i++) sum += km[i]!;
            rows += b.rows;
          }
          return { rows, sum };
        }
        case 'pipeline': {
          const top = await withKm(t).groupBy(['origin', 'destination']).agg({ delay: ['mean', 'count'], km: 'mean' })
            .sort('delay_count', { descending: true }).limit(10).toRows();
          return { top: top.map((r) => `${String(r.origin)}-${String(r.destination)} ${Number(r.delay_count)}`), topKm: top[0]!.km_mean as number };
        }
      }
    },
    async close() {},
  };
}

/** Tandem's q5 pipeline, for the streaming-memory section. */
export function tandemRoutePipeline(flights: TdTable, airports: TdTable): TdTable {
  return flights
    .join(airports.rename({ latitude: 'lat1', longitude: 'lon1' }), { on: 'origin', right: 'iata' })
    .join(airports.rename({ latitude: 'lat2', longitude: 'lon2' }), { on: 'destination', right: 'iata' })
    .withColumn('km', kmKernel, ['lat1', 'lon1', 'lat2', 'lon2'])
    .groupBy(['origin', 'destination']).agg({ delay: ['mean', 'count'], km: 'mean' })
    .sort('delay_count', { descending: true }).limit(10);
}

// ---------------------------------------------------------------------------------------------
// Arquero

export async function arqueroPeer(files: DataFiles): Promise<DataPeer> {
  const airports = aq.fromCSV(readFileSync(files.airports, 'utf8'));
  const origins = airports.select({ iata: 'o_iata', latitude: 'lat1', longitude: 'lon1' });
  const dests = airports.select({ iata: 'd_iata', latitude: 'lat2', longitude: 'lon2' });
  let memory: aq.ColumnTable | undefined;
  let joinedMemory: aq.ColumnTable | undefined;
  // Arquero reads no Parquet: parquet-wasm decodes the file to Arrow IPC, which aq.fromArrow
  // takes (through Flechette, which gives int64 as JS numbers; an apache-arrow Table would hand
  // Arquero BigInts, which its mean can't add).
  const table = async (variant: Variant) => (variant === 'file' ? aq.fromArrow(await parquetToIpc(files.flights)) : memory!);
  const km = aq.escape((d: { lat1: number; lon1: number; lat2: number; lon2: number }) => greatCircleKm(d.lat1, d.lon1, d.lat2, d.lon2));
  const withKm = async (variant: Variant) => (await table(variant))
    .join(origins, ['origin', 'o_iata'])
    .join(dests, ['destination', 'd_iata'])
    .derive({ km });
  return {
    id: 'arquero',
    name: 'Arquero',
    label: 'Arquero (derive with a JS function)',
    userJs: true,
    queries: ['load', 'groupby', 'filter', 'udf', 'kmOnly', 'pipeline'],
    async loadMemory() {
      memory = aq.fromArrow(await parquetToIpc(files.flights));
      joinedMemory = memory.join(origins, ['origin', 'o_iata']).join(dests, ['destination', 'd_iata']).select('lat1', 'lon1', 'lat2', 'lon2').reify();
    },
    async run(query, variant) {
      switch (query) {
        case 'load':
          return { rows: (await table('file')).numRows() };
        case 'groupby': {
          const t = (await table(variant)).groupby('origin').rollup({ delay_mean: aq.op.mean('delay') });
          return { groups: t.numRows(), sum: (t.array('delay_mean') as number[]).reduce((s, v) => s + v, 0) };
        }
        case 'filter':
          return { rows: (await table(variant)).filter((d: { delay: number }) => d.delay > 15).numRows() };
        case 'udf': {
          const t = (await withKm(variant)).rollup({ n: aq.op.count(), s: aq.op.sum('km') });
          return { rows: t.get('n', 0) as number, sum: t.get('s', 0) as number };
        }
        case 'kmOnly': {
          const t = joinedMemory!.derive({ km }).rollup({ n: aq.op.count(), s: aq.op.sum('km') });
          return { rows: t.get('n', 0) as number, sum: t.get('s', 0) as number };
        }
        case 'pipeline': {
          const t = (await withKm(variant)).groupby('origin', 'destination')
            .rollup({ delay_mean: aq.op.mean('delay'), n: aq.op.count(), km_mean: aq.op.mean('km') })
            .orderby(aq.desc('n')).slice(0, 10);
          const rows = t.objects() as { origin: string; destination: string; n: number; km_mean: number }[];
          return { top: rows.map((r) => `${r.origin}-${r.destination} ${r.n}`), topKm: rows[0]!.km_mean };
        }
      }
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------------
// Reference

/** The udf query in plain JS, float64: rows with both airports known, and the sum of their km. */
export async function kmReference(files: DataFiles): Promise<{ rows: number; sum: number }> {
  const arrow = await import('apache-arrow');
  const t = arrow.tableFromIPC(await parquetToIpc(files.flights));
  const airports = aq.fromCSV(readFileSync(files.airports, 'utf8'));
  const where = new Map<string, [number, number]>();
  const iata = airports.array('iata') as string[], lat = airports.array('latitude') as number[], lon = airports.array('longitude') as number[];
  iata.forEach((code, i) => where.set(code, [lat[i]!, lon[i]!]));
  const origin = t.getChild('origin')!.toArray() as string[];
  const dest = t.getChild('destination')!.toArray() as string[];
  let rows = 0;
  let sum = 0;
  for (let i = 0; i < origin.length; i++) {
    const o = where.get(origin[i]!), d = where.get(dest[i]!);
    if (!o || !d) continue;
    rows++;
    sum += greatCircleKm(o[0], o[1], d[0], d[1]);
  }
  return { rows, sum };
}
