/**
 * CSV through csv-parse (streaming, RFC 4180 quoting); the first record is the header. A record's
 * row is its position in the file counting the header as row 1 — its line number unless a quoted
 * field spans lines (csv-parse's per-record `info`, which would say, took a third of the read).
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { DataFormatError } from '../../errors.ts';
import { fetchBody } from './http.ts';
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
    const input = isUrl ? await fetchBody(location) : createReadStream(location);
    const parser = input.pipe(parse({ delimiter: options.delimiter ?? ',', relax_column_count: true, bom: true, skip_empty_lines: true }));
    // pipe() doesn't pass on the input's errors: without this a read error left the parser waiting forever.
    input.on('error', (error: Error) => parser.destroy(error));
    let header = true;
    let row = 1;
    try {
      for await (const records of drained<string[]>(parser)) {
        for (const record of records) {
          if (header) {
            header = false;
            resolveNames(record.map((s) => s.trim()));
            continue;
          }
          yield { values: record, line: ++row };
        }
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

/**
 * A readable stream's objects, as arrays of whatever is buffered at each wake-up: an await per
 * array instead of one per record (2× the rows per second for a 4-column CSV here).
 */
async function* drained<T>(stream: Readable): AsyncGenerator<T[]> {
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: { error: unknown } | undefined;
  const poke = () => wake?.();
  stream.on('readable', poke);
  stream.once('end', () => { ended = true; poke(); });
  stream.once('error', (error) => { failure = { error }; poke(); });
  try {
    for (;;) {
      const out: T[] = [];
      for (let r = stream.read() as T | null; r !== null; r = stream.read() as T | null) out.push(r);
      if (out.length > 0) yield out;
      else {
        if (failure) throw failure.error;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    }
  } finally {
    stream.off('readable', poke);
  }
}
