/** `select` and `rename`: columns kept, reordered or renamed — views, no copy. */
import type { Batch, Schema } from '../batch.ts';
import type { Column } from '../column.ts';
import { ArgumentError } from '../../errors.ts';
import { requireColumns, requireNewName } from './columns.ts';
import { perBatch, type Stage } from './stage.ts';

export function selectStage(schema: Schema, columns: unknown): Stage {
  const names = requireColumns(schema, columns, 'columns');
  return {
    label: `select ${names.join(', ')}`,
    schema: new Map(names.map((n) => [n, schema.get(n)!])),
    needs: (output) => new Set([...output].filter((n) => names.includes(n))),
    // A column no later stage reads may not have been read at all (a count needs none): skipped.
    run: (input, context) => perBatch(input, context, (b) => ({ rows: b.rows, columns: new Map(names.flatMap((n): [string, Column][] => (b.columns.has(n) ? [[n, b.columns.get(n)!]] : []))) })),
  };
}

export function renameStage(schema: Schema, mapping: unknown): Stage {
  if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) throw new ArgumentError('mapping', 'an object { oldName: newName }', mapping);
  const entries = Object.entries(mapping as Record<string, unknown>);
  for (const [from, to] of entries) {
    requireColumns(schema, from, `mapping.${from}`);
    requireNewName(to, `mapping.${from}`);
  }
  const rename = new Map(entries as [string, string][]);
  const out = new Map([...schema].map(([n, t]) => [rename.get(n) ?? n, t] as const));
  if (out.size !== schema.size) throw new ArgumentError('mapping', 'new names that differ from each other and from the other columns', mapping);
  return {
    label: `rename ${entries.map(([a, b]) => `${a} → ${b}`).join(', ')}`,
    schema: out,
    needs: (output) => {
      const back = new Map([...rename].map(([a, b]) => [b, a]));
      return new Set([...output].map((n) => back.get(n) ?? n));
    },
    run: (input, context) => perBatch(input, context, (b: Batch) => ({ rows: b.rows, columns: new Map([...b.columns].map(([n, c]): [string, Column] => [rename.get(n) ?? n, c])) })),
  };
}
