/**
 * What CSV and JSON lines share: a stream of parsed records becomes typed batches. The first
 * `inferRows` records decide the schema (read once when the table is opened, then again from the
 * start); a value that doesn't parse as its column's type is an error naming the file, the line and
 * the column — or, with `skipBadRows`, the row is dropped and counted.
 */
import { DataFormatError } from '../../errors.ts';
import type { Batch, Schema } from '../batch.ts';
import { Dictionary, type ColumnType } from '../column.ts';
import { BatchBuilder } from './builder.ts';
import { inferType, isNullText, parseValue } from './infer.ts';
import { DEFAULT_BATCH_ROWS, type ReadOptions, type Source, type SourceOptions } from './source.ts';

/** One parsed record: its values by column position, and its line in the file (1-based). */
export interface TextRecord {
  readonly values: readonly unknown[];
  readonly line: number;
}

/** Records of one pass over the file; `names` resolves once the header (or the first object) is known. */
export interface TextPass {
  readonly names: Promise<readonly string[]>;
  readonly records: AsyncIterable<TextRecord>;
}

/** Opens a text source: `pass()` starts a fresh read of the file each time. */
export async function openTextRows(location: string, pass: () => TextPass, options: ReadOptions): Promise<Source & { skipped(): number }> {
  const inferRows = options.inferRows ?? 1000;
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const first = pass();
  const samples: (readonly unknown[])[] = [];
  const it = first.records[Symbol.asyncIterator]();
  while (samples.length < inferRows) {
    const next = await it.next();
    if (next.done) break;
    samples.push(next.value.values);
  }
  await it.return?.();
  const names = await first.names;
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new DataFormatError(location, `the column name '${n}' appears twice`, { row: 1, column: n });
    seen.add(n);
  }
  const schema: Schema = new Map(names.map((n, c) => [n, inferType(samples.map((r) => r[c]))] as const));
  const types = [...schema.values()];
  let skipped = 0;
  return {
    name: location,
    schema,
    skipped: () => skipped,
    async *batches(o: SourceOptions): AsyncGenerator<Batch> {
      const dictionaries = new Map<string, Dictionary>();
      for (const [n, t] of schema) if (t === 'string') dictionaries.set(n, new Dictionary());
      const dicts = names.map((n) => dictionaries.get(n));
      let builder = new BatchBuilder(schema, dictionaries, batchRows);
      const row: (number | null)[] = new Array(names.length);
      for await (const record of pass().records) {
        o.signal?.throwIfAborted();
        const bad = toRow(record, types, dicts, row, names);
        if (bad) {
          if (!options.skipBadRows) throw new DataFormatError(location, `${bad.problem} (pass { skipBadRows: true } to skip such rows)`, { row: record.line, ...(bad.column ? { column: bad.column } : {}) });
          skipped++;
          continue;
        }
        builder.push(row);
        if (builder.full) {
          yield builder.finish();
          builder = new BatchBuilder(schema, dictionaries, batchRows);
        }
      }
      if (builder.rows > 0) yield builder.finish();
    },
  };
}

function toRow(record: TextRecord, types: readonly ColumnType[], dicts: readonly (Dictionary | undefined)[], row: (number | null)[], names: readonly string[]): { problem: string; column?: string } | undefined {
  const values = record.values;
  if (values.length !== types.length) return { problem: `expected ${types.length} fields, found ${values.length}` };
  for (let c = 0; c < types.length; c++) {
    const v = values[c];
    if (isNullText(v)) {
      row[c] = null;
      continue;
    }
    const parsed = parseValue(types[c]!, v);
    if (parsed === undefined) return { problem: `expected ${article(types[c]!)}, got ${JSON.stringify(v)}`, column: names[c]! };
    row[c] = typeof parsed === 'string' ? dicts[c]!.code(parsed) : parsed;
  }
  return undefined;
}

function article(type: ColumnType): string {
  return { float64: 'a number', float32: 'a number', int32: 'an integer', uint8: 'an integer', bool: 'true or false', timestamp: 'an ISO-8601 date', string: 'a string' }[type];
}
