/**
 * Tables read from http URLs: a local server on loopback serves the real files (with Range
 * requests, which Parquet's reader uses to fetch only the footer and the row groups it decodes),
 * and every format reads the same rows as from the path.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tandem/backends';
import { DataFormatError } from '../src/index.ts';
import { AIRPORTS, dataSession, FLIGHTS_200K, FLIGHTS_3M } from './data-helpers.ts';

const FILES = new Map([FLIGHTS_3M, FLIGHTS_200K, AIRPORTS].map((p) => [`/${basename(p)}`, p]));

describe('reading from http URLs', () => {
  const session = dataSession();
  let server: Server;
  let base = '';
  let ranges = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = FILES.get(new URL(req.url!, 'http://x').pathname);
      if (!path) {
        res.writeHead(404).end('not found');
        return;
      }
      const size = statSync(path).size;
      // bytes=a-b, bytes=a- and the suffix form bytes=-n, as HTTP servers answer them.
      const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
      if (range && (range[1] || range[2])) {
        ranges++;
        const suffix = range[1] === '';
        const start = suffix ? Math.max(0, size - Number(range[2])) : Number(range[1]);
        const end = !suffix && range[2] ? Math.min(size - 1, Number(range[2])) : size - 1;
        res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes' });
        if (req.method === 'HEAD') res.end();
        else createReadStream(path, { start, end }).pipe(res);
        return;
      }
      res.writeHead(200, { 'Content-Length': size, 'Accept-Ranges': 'bytes' });
      if (req.method === 'HEAD') res.end();
      else createReadStream(path).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
  });

  it('reads Parquet by ranges: the same rows as from the file', async () => {
    const td = session.td();
    const fromUrl = await (await td.read(`${base}/flights-3m.parquet`)).limit(300_000).groupBy('origin').agg({ delay: ['count', 'sum'] }).sort('origin').toRows();
    const fromFile = await (await td.read(FLIGHTS_3M)).limit(300_000).groupBy('origin').agg({ delay: ['count', 'sum'] }).sort('origin').toRows();
    expect(fromUrl).toEqual(fromFile);
    expect(ranges, 'Parquet over http fetched byte ranges, not the whole file').toBeGreaterThan(0);
  });

  it('reads Arrow and CSV from URLs as from paths', async () => {
    const td = session.td();
    for (const [url, path] of [[`${base}/flights-200k.arrow`, FLIGHTS_200K], [`${base}/airports.csv`, AIRPORTS]] as const) {
      const a = await (await td.read(url)).collect();
      const b = await (await td.read(path)).collect();
      expect(a.rows).toBe(b.rows);
      for (const [name, c] of b.columns) expect(a.columns.get(name)!.values.data, `${url} ${name}`).toEqual(c.values.data);
    }
  });

  it('a URL that is not there fails with the URL and the HTTP status named, in every format', async () => {
    const td = session.td();
    // Parquet: parquet-wasm given a 404 page traps and never settles; the reader checks first.
    for (const name of ['missing.parquet', 'missing.arrow', 'missing.csv', 'missing.jsonl']) {
      const error = await td.read(`${base}/${name}`).then((t) => t.count()).then(() => undefined, (e: unknown) => e);
      expect(error, name).toBeInstanceOf(DataFormatError);
      expect((error as DataFormatError).file).toBe(`${base}/${name}`);
      expect((error as Error).message).toMatch(/HTTP 404/);
    }
  });

  it('a URL serving something else than Parquet is refused before parquet-wasm sees it', async () => {
    const error = await session.td().read(`${base}/airports.csv`, { format: 'parquet' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).toMatch(/not a Parquet file/);
  });
});
