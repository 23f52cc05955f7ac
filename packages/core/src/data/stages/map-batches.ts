/**
 * `mapBatches`: a plain JS function over a whole batch, run in the session's CPU workers (one
 * batch per task, several batches at once). It receives the columns as typed arrays on shared
 * memory (no copy) and returns the columns it adds or replaces; their types are declared up front
 * so that the stages after it are checked when the table is built.
 */
import { ArgumentError } from '../../errors.ts';
import type { ModuleSpecifier } from '../../pool/module-ref.ts';
import { Tensor } from '../../tensor/tensor.ts';
import type { Schema } from '../batch.ts';
import { COLUMN_TYPES, Dictionary, makeColumn, STORAGE, type Column, type ColumnType } from '../column.ts';
import { requireNewName } from './columns.ts';
import { perBatch, type Stage } from './stage.ts';

/** A column as a `mapBatches` function sees it. */
export interface PlainColumn {
  readonly type: ColumnType;
  /** Shared memory: read it, don't write it (other stages may hold the same batch). */
  readonly values: Float64Array | Float32Array | Int32Array | Uint8Array;
  readonly validity?: Uint8Array;
  /** For strings: `dictionary[values[i]]` is row i's string. */
  readonly dictionary?: readonly string[];
}

/** A batch as a `mapBatches` function sees it. */
export interface PlainBatch {
  readonly rows: number;
  readonly columns: Readonly<Record<string, PlainColumn>>;
}

/** What a `mapBatches` function returns: each new or replaced column's values, one per row (strings for string columns; NaN or null is null). */
export type PlainColumns = Record<string, ArrayLike<number | null> | readonly (string | null)[]>;

export function mapBatchesStage(schema: Schema, module: ModuleSpecifier, exportName: string, output: unknown, concurrency: number): Stage {
  if (typeof exportName !== 'string' || exportName === '') throw new ArgumentError('exportName', 'the name of the function the module exports', exportName);
  if (typeof output !== 'object' || output === null || Array.isArray(output) || Object.keys(output).length === 0) {
    throw new ArgumentError('options.output', "the columns the function returns and their types, e.g. { hour: 'int32' }", output);
  }
  const declared = Object.entries(output as Record<string, unknown>).map(([name, type]) => {
    requireNewName(name, 'options.output');
    if (!COLUMN_TYPES.includes(type as ColumnType)) throw new ArgumentError(`options.output.${name}`, `one of ${COLUMN_TYPES.join(', ')}`, type);
    return [name, type as ColumnType] as const;
  });
  const out = new Map(schema);
  for (const [n, t] of declared) out.set(n, t);
  const dictionaries = new Map(declared.filter(([, t]) => t === 'string').map(([n]) => [n, new Dictionary()] as const));
  return {
    label: `mapBatches ${exportName}(${String(module).split('/').pop()}) → ${declared.map(([n]) => n).join(', ')}`,
    schema: out,
    needs: () => 'all',
    run: (input, context) => perBatch(input, context, async (b) => {
      const plain: PlainBatch = {
        rows: b.rows,
        columns: Object.fromEntries([...b.columns].map(([n, c]) => [n, {
          type: c.type, values: c.values.data as PlainColumn['values'], ...(c.validity ? { validity: c.validity } : {}), ...(c.dictionary ? { dictionary: c.dictionary.values } : {}),
        }])),
      };
      const result = await context.session.run<PlainColumns>(module, exportName, [plain]);
      if (typeof result !== 'object' || result === null) throw new ArgumentError(`${exportName}'s result`, 'an object of the declared columns', result);
      const columns = new Map<string, Column>(b.columns);
      for (const [name, type] of declared) {
        const values = result[name];
        if (!values || typeof (values as ArrayLike<unknown>).length !== 'number' || (values as ArrayLike<unknown>).length !== b.rows) {
          throw new ArgumentError(`${exportName}'s result.${name}`, `${b.rows} values (one per row of the batch)`, values);
        }
        columns.set(name, toColumn(values, type, b.rows, dictionaries.get(name)));
      }
      return { rows: b.rows, columns };
    }, concurrency),
  };
}

function toColumn(values: ArrayLike<unknown>, type: ColumnType, rows: number, dictionary: Dictionary | undefined): Column {
  const t = Tensor.zeros([rows], STORAGE[type]);
  let validity: Uint8Array | undefined;
  const nullAt = (i: number) => {
    validity ??= new Uint8Array(rows).fill(1);
    validity[i] = 0;
  };
  for (let i = 0; i < rows; i++) {
    const v = values[i];
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v) && type !== 'float64' && type !== 'float32')) nullAt(i);
    else if (type === 'string') t.data[i] = dictionary!.code(String(v));
    else t.data[i] = typeof v === 'boolean' ? Number(v) : v instanceof Date ? v.getTime() : (v as number);
  }
  return makeColumn(type, t, validity, dictionary);
}
