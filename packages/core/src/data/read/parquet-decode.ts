/**
 * A task module for the session's workers: decodes one Parquet row group. Reading a file is the
 * one stage every pipeline has, and decoding (decompression, Arrow conversion, string interning)
 * is CPU-bound: row groups decode in parallel in the workers, while the main thread runs the
 * stages after it.
 */
import { openAsBlob } from 'node:fs';
import * as arrow from 'apache-arrow';
import { fromArrowBatch } from '../arrow/from-arrow.ts';
import type { Dictionary } from '../column.ts';
import type { PlainBatch } from '../stages/map-batches.ts';
import { toPlainBatch } from './plain.ts';
import { sharedCopy } from './shared-bytes.ts';

type ParquetFile = import('parquet-wasm/node').ParquetFile;
const files = new Map<string, Promise<ParquetFile>>();

function open(location: string, isUrl: boolean): Promise<ParquetFile> {
  let f = files.get(location);
  if (!f) {
    f = import('parquet-wasm/node').then(async (pw) => (isUrl ? pw.ParquetFile.fromUrl(location) : pw.ParquetFile.fromFile(await openAsBlob(location))));
    f.catch(() => files.delete(location));
    files.set(location, f);
  }
  return f;
}

/** Decodes row group `group` of the file (only `columns`, when given) into plain batches on shared memory. */
export async function decodeRowGroup(location: string, isUrl: boolean, group: number, rows: number, columns: readonly string[] | undefined): Promise<PlainBatch[]> {
  const file = await open(location, isUrl);
  const decoded = await file.read({ rowGroups: [group], batchSize: Math.max(1, rows), ...(columns ? { columns: [...columns] } : {}) });
  const table = arrow.tableFromIPC(sharedCopy(decoded.intoIPCStream()));
  const dictionaries = new Map<string, Dictionary>();
  return table.batches.map((b) => toPlainBatch(fromArrowBatch(b, dictionaries)));
}
