/**
 * Batches in the plain shape that crosses a thread boundary: typed arrays on shared memory (shared,
 * not copied) and, for strings, the dictionary as an array of strings. Dictionaries are per thread,
 * so a batch decoded in a worker has its own; `fromPlainBatch` moves its codes into the column's
 * dictionary on this side.
 */
import { Tensor } from '../../tensor/tensor.ts';
import type { Batch } from '../batch.ts';
import { Dictionary, makeColumn, STORAGE, type Column } from '../column.ts';
import type { PlainBatch, PlainColumn } from '../stages/map-batches.ts';

export function toPlainBatch(b: Batch): PlainBatch {
  return {
    rows: b.rows,
    columns: Object.fromEntries([...b.columns].map(([n, c]): [string, PlainColumn] => [n, {
      type: c.type, values: c.values.data as PlainColumn['values'], ...(c.validity ? { validity: c.validity } : {}), ...(c.dictionary ? { dictionary: c.dictionary.values } : {}),
    }])),
  };
}

/** A batch from its plain shape; string codes are rewritten (in place) into `dictionaries`' codes. */
export function fromPlainBatch(p: PlainBatch, dictionaries: Map<string, Dictionary>): Batch {
  const columns = new Map<string, Column>();
  for (const [name, c] of Object.entries(p.columns)) {
    let dictionary: Dictionary | undefined;
    if (c.type === 'string') {
      dictionary = dictionaries.get(name);
      if (!dictionary) dictionaries.set(name, (dictionary = new Dictionary()));
      const map = Int32Array.from(c.dictionary ?? [], (s) => dictionary!.code(s));
      const codes = c.values as Int32Array;
      for (let i = 0; i < codes.length; i++) codes[i] = map[codes[i]!]!;
    }
    columns.set(name, makeColumn(c.type, new Tensor(STORAGE[c.type], [c.values.length], c.values as never), c.validity, dictionary));
  }
  return { rows: p.rows, columns };
}
