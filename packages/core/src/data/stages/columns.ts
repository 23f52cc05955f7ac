/** Checks of the column names a stage is given, so that a typo fails at the call with the choices. */
import { ArgumentError } from '../../errors.ts';
import type { Schema } from '../batch.ts';
import type { ColumnType } from '../column.ts';

/** Throws ArgumentError(argument) unless every name is a column of `schema` (of one of `types`, if given). */
export function requireColumns(schema: Schema, names: unknown, argument: string, types?: readonly ColumnType[]): string[] {
  const list = typeof names === 'string' ? [names] : names;
  if (!Array.isArray(list) || list.length === 0) throw new ArgumentError(argument, 'a column name or a non-empty array of them', names);
  list.forEach((name, i) => {
    const at = Array.isArray(names) ? `${argument}[${i}]` : argument;
    if (typeof name !== 'string' || !schema.has(name)) throw new ArgumentError(at, `a column of the table (${[...schema.keys()].join(', ')})`, name);
    const type = schema.get(name)!;
    if (types && !types.includes(type)) throw new ArgumentError(at, `a column of type ${types.join(' or ')}`, `'${name}' of type ${type}`);
  });
  return list as string[];
}

/** Throws ArgumentError(argument) unless `name` is a usable new column name. */
export function requireNewName(name: unknown, argument: string): string {
  if (typeof name !== 'string' || name === '') throw new ArgumentError(argument, 'a non-empty column name', name);
  return name;
}

export const NUMERIC: readonly ColumnType[] = ['float64', 'float32', 'int32', 'uint8', 'bool', 'timestamp'];
