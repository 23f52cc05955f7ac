/** An Apache Arrow table already in memory (DuckDB's, Polars', Arquero's) as a source. */
import type * as arrow from 'apache-arrow';
import { ArgumentError } from '../../errors.ts';
import type { Batch } from '../batch.ts';
import type { Dictionary } from '../column.ts';
import { fromArrowBatch, schemaOfArrow } from '../arrow/from-arrow.ts';
import type { Source, SourceOptions } from './source.ts';

export function arrowTableSource(table: arrow.Table, name = 'an Arrow table'): Source {
  if (!table || typeof table !== 'object' || !('batches' in table) || !('schema' in table)) throw new ArgumentError('table', 'an apache-arrow Table', table);
  const { schema, unsupported } = schemaOfArrow(table.schema);
  if (unsupported) throw new ArgumentError(`table.${unsupported.column}`, 'a column of numbers, booleans, dates/timestamps or strings', unsupported.why);
  const dictionaries = new Map<string, Dictionary>();
  return {
    name,
    schema,
    rows: table.numRows,
    async *batches(options: SourceOptions): AsyncGenerator<Batch> {
      for (const b of table.batches) {
        options.signal?.throwIfAborted();
        yield fromArrowBatch(b, dictionaries, options.columns);
      }
    },
  };
}
