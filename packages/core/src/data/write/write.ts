/**
 * `table.write(path)`: Parquet (parquet-wasm, ZSTD), Arrow IPC file or CSV by extension, through a
 * temporary file (see atomic.ts). CSV streams batch by batch; Parquet and Arrow are encoded from the
 * whole table at once (parquet-wasm takes a table; an Arrow file can't replace a dictionary), so
 * the result must fit in memory.
 */
import { extname } from 'node:path';
import * as arrow from 'apache-arrow';
import { ArgumentError } from '../../errors.ts';
import type { Batch, Schema } from '../batch.ts';
import { toArrowTable } from '../arrow/to-arrow.ts';
import { writeAtomically } from './atomic.ts';
import { csvHeader, csvRows } from './csv.ts';

export type WriteFormat = 'parquet' | 'arrow' | 'csv';
const BY_EXTENSION: Record<string, WriteFormat> = { '.parquet': 'parquet', '.arrow': 'arrow', '.feather': 'arrow', '.ipc': 'arrow', '.csv': 'csv' };

export function writeFormatOf(path: unknown, format: unknown): WriteFormat {
  if (typeof path !== 'string' || path === '') throw new ArgumentError('path', 'a file path', path);
  const f = format ?? BY_EXTENSION[extname(path).toLowerCase()];
  if (f !== 'parquet' && f !== 'arrow' && f !== 'csv') throw new ArgumentError('options.format', `parquet, arrow or csv (the extension '${extname(path)}' doesn't say)`, f ?? path);
  return f;
}

export async function writeBatches(path: string, format: WriteFormat, schema: Schema, batches: AsyncIterable<Batch>): Promise<void> {
  await writeAtomically(path, async (file) => {
    if (format === 'csv') {
      await file.write(csvHeader(schema));
      for await (const b of batches) await file.write(csvRows(b));
      return;
    }
    const all: Batch[] = [];
    for await (const b of batches) all.push(b);
    if (format === 'arrow') {
      // The whole table at once: the file format can't replace a dictionary between batches, and
      // each batch's strings need the column's dictionary as it stands after the last batch.
      await file.write(arrow.tableToIPC(toArrowTable(schema, all), 'file'));
      return;
    }
    const pw = await import('parquet-wasm/node');
    const ipc = arrow.tableToIPC(toArrowTable(schema, all), 'stream');
    const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).build();
    await file.write(pw.writeParquet(pw.Table.fromIPCStream(ipc), props));
  });
}
