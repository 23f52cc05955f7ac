/** Picks the reader for a path or URL by its format. */
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArgumentError } from '../../errors.ts';
import { openArrow } from './arrow-ipc.ts';
import { openCsv } from './csv.ts';
import { openJsonl } from './jsonl.ts';
import { openParquet } from './parquet.ts';
import type { ReadOptions, Source } from './source.ts';

const FORMATS = ['parquet', 'arrow', 'csv', 'jsonl'] as const;
const BY_EXTENSION: Record<string, ReadOptions['format']> = {
  '.parquet': 'parquet', '.pq': 'parquet', '.arrow': 'arrow', '.arrows': 'arrow', '.feather': 'arrow', '.ipc': 'arrow',
  '.csv': 'csv', '.tsv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl',
};

/** Opens `pathOrUrl` (a path, a file: URL or an http(s) URL) as a source of batches. */
export async function openSource(pathOrUrl: string | URL, options: ReadOptions = {}): Promise<Source> {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object of read options', options);
  let location: string;
  let isUrl = false;
  if (pathOrUrl instanceof URL || (typeof pathOrUrl === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(pathOrUrl))) {
    const url = new URL(pathOrUrl);
    if (url.protocol === 'file:') location = fileURLToPath(url);
    else if (url.protocol === 'http:' || url.protocol === 'https:') {
      location = url.href;
      isUrl = true;
    } else throw new ArgumentError('pathOrUrl', 'a file path, a file: URL or an http(s) URL', url.href);
  } else if (typeof pathOrUrl === 'string' && pathOrUrl !== '') location = pathOrUrl;
  else throw new ArgumentError('pathOrUrl', 'a file path or URL', pathOrUrl);
  if (!isUrl && !existsSync(location)) throw new ArgumentError('pathOrUrl', 'an existing file', location);
  if (!isUrl && statSync(location).isDirectory()) throw new ArgumentError('pathOrUrl', 'a file, not a directory', location);
  const ext = extname(isUrl ? new URL(location).pathname : location).toLowerCase();
  const format = options.format ?? BY_EXTENSION[ext];
  if (!format || !FORMATS.includes(format)) {
    throw new ArgumentError('options.format', `one of ${FORMATS.join(', ')} (the extension '${ext}' doesn't say)`, options.format ?? location);
  }
  for (const key of ['batchRows', 'inferRows'] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new ArgumentError(`options.${key}`, 'a positive integer', v);
  }
  if (options.delimiter !== undefined && (typeof options.delimiter !== 'string' || options.delimiter.length === 0)) throw new ArgumentError('options.delimiter', 'a non-empty string', options.delimiter);
  if (options.rowGroups !== undefined && (!Array.isArray(options.rowGroups) || !options.rowGroups.every((g) => Number.isSafeInteger(g) && g >= 0))) {
    throw new ArgumentError('options.rowGroups', 'an array of row group numbers (integers from 0)', options.rowGroups);
  }
  if ((options.rowGroups !== undefined || options.shared) && format !== 'parquet') throw new ArgumentError(options.shared ? 'options.shared' : 'options.rowGroups', 'a Parquet file (the option reads row groups)', format);
  switch (format) {
    case 'parquet': return openParquet(isUrl ? location : resolve(location), isUrl, { ...(options.rowGroups ? { rowGroups: options.rowGroups } : {}), shared: options.shared === true });
    case 'arrow': return openArrow(location, isUrl);
    case 'csv': return openCsv(location, isUrl, ext === '.tsv' && !options.delimiter ? { ...options, delimiter: '\t' } : options);
    case 'jsonl': return openJsonl(location, isUrl, options);
  }
}
