/** CSV through csv-parse (streaming, RFC 4180 quoting); the first record is the header. */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parse, type Info } from 'csv-parse';
import { DataFormatError } from '../../errors.ts';
import type { ReadOptions, Source } from './source.ts';
import { openTextRows, type TextPass, type TextRecord } from './text-rows.ts';

export function openCsv(location: string, isUrl: boolean, options: ReadOptions): Promise<Source> {
  return openTextRows(location, () => csvPass(location, isUrl, options), options);
}

function csvPass(location: string, isUrl: boolean, options: ReadOptions): TextPass {
  let resolveNames!: (names: readonly string[]) => void;
  let rejectNames!: (e: unknown) => void;
  const names = new Promise<readonly string[]>((res, rej) => { resolveNames = res; rejectNames = rej; });
  names.catch(() => {});
  async function* records(): AsyncGenerator<TextRecord> {
    const input = isUrl ? await fetchStream(location) : createReadStream(location);
    const parser = input.pipe(parse({ delimiter: options.delimiter ?? ',', relax_column_count: true, info: true, bom: true, skip_empty_lines: true }));
    // pipe() doesn't pass on the input's errors: without this a read error left the parser waiting forever.
    input.on('error', (error) => parser.destroy(error));
    let header = true;
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
        if (header) {
          header = false;
          resolveNames(record.map((s) => s.trim()));
          continue;
        }
        yield { values: record, line: info.lines };
      }
      if (header) resolveNames([]);
    } catch (error) {
      const e = error as Error & { lines?: number };
      const wrapped = new DataFormatError(location, `malformed CSV: ${e.message}`, e.lines ? { row: e.lines } : {}, error);
      rejectNames(wrapped);
      throw wrapped;
    } finally {
      input.destroy();
    }
  }
  return { names, records: records() };
}

async function fetchStream(url: string): Promise<Readable> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  return Readable.fromWeb(response.body as never);
}
