/**
 * Arrow IPC, file ("Feather v2") and stream formats, through apache-arrow. A file that fits the
 * in-memory limit is read onto shared memory in one piece and its columns wrap Arrow's buffers
 * without a copy; a larger one, a stream or a URL is read batch by batch.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { DataFormatError } from '../../errors.ts';
import type { Batch } from '../batch.ts';
import type { Dictionary } from '../column.ts';
import { fromArrowBatch, schemaOfArrow } from '../arrow/from-arrow.ts';
import { sharedCopy } from './shared-bytes.ts';
import { fetchBody } from './http.ts';
import type { Source, SourceOptions } from './source.ts';

/** Files up to this size are read whole onto shared memory (zero-copy columns). */
export const WHOLE_FILE_BYTES = 512 * 1024 * 1024;

/** Opens an Arrow IPC file or stream at a path or URL; reads the schema now. */
export async function openArrow(location: string, isUrl: boolean): Promise<Source> {
  const whole = !isUrl && statSync(location).size <= WHOLE_FILE_BYTES;
  const open = async (): Promise<AsyncIterable<arrow.RecordBatch> & { schema: arrow.Schema }> => {
    try {
      if (whole) return toAsync(arrow.RecordBatchReader.from(sharedCopy(readFileSync(location))).open());
      const body = isUrl ? await fetchBody(location) : createReadStream(location);
      const reader = await (arrow.RecordBatchReader.from(body as never) as unknown as Promise<arrow.AsyncRecordBatchStreamReader>);
      return await reader.open();
    } catch (error) {
      if (error instanceof DataFormatError) throw error;
      throw new DataFormatError(location, `not a readable Arrow IPC file or stream: ${(error as Error).message}`, {}, error);
    }
  };
  const first = await open();
  const { schema, unsupported } = schemaOfArrow(first.schema);
  if (unsupported) throw new DataFormatError(location, unsupported.why, { column: unsupported.column });
  let unused: typeof first | undefined = first;
  return {
    name: location,
    schema,
    async *batches(options: SourceOptions): AsyncGenerator<Batch> {
      const reader = unused ?? (await open());
      unused = undefined;
      const dictionaries = new Map<string, Dictionary>();
      let row = 0;
      try {
        for await (const b of reader) {
          options.signal?.throwIfAborted();
          yield fromArrowBatch(b, dictionaries, options.columns);
          row += b.numRows;
        }
      } catch (error) {
        if (error instanceof DataFormatError || (error as Error).name === 'AbortError') throw error;
        throw new DataFormatError(location, `can't be read past this row (truncated or corrupt?): ${(error as Error).message}`, { row: row + 1 }, error);
      }
    },
  };
}

function toAsync(reader: arrow.RecordBatchReader): AsyncIterable<arrow.RecordBatch> & { schema: arrow.Schema } {
  return {
    schema: reader.schema,
    async *[Symbol.asyncIterator]() {
      yield* reader as Iterable<arrow.RecordBatch>;
    },
  };
}
