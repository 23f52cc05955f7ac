import { ArgumentError } from '../errors.ts';

type Nested = ArrayLike<number> | ArrayLike<Nested>;

/**
 * The shape of a rectangular nested array of numbers, outermost first (`[[1, 2, 3], [4, 5, 6]]` →
 * `[2, 3]`), and its elements row-major. gpu.js users pass matrices this way; ragged arrays and
 * non-numbers are refused, naming `argument` and the first place that is wrong.
 *
 * @example
 * ```ts
 * flattenNested([[1, 2], [3, 4]], 'args[0]'); // { shape: [2, 2], values: [1, 2, 3, 4] }
 * ```
 */
export function flattenNested(value: unknown, argument: string, maxRank = 3): { shape: number[]; values: number[] } {
  const shape: number[] = [];
  let probe: unknown = value;
  while (isList(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  if (shape.length > maxRank) throw new ArgumentError(argument, `at most ${maxRank} levels of nested arrays`, `${shape.length} levels`);
  const values: number[] = [];
  const walk = (v: unknown, depth: number, where: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new ArgumentError(where, 'a number (a nested array of numbers, rectangular)', v);
      values.push(v);
      return;
    }
    if (!isList(v) || v.length !== shape[depth]) {
      throw new ArgumentError(where, `an array of ${shape[depth]} elements (a nested array must be rectangular, shape [${shape.join(', ')}])`, isList(v) ? `${v.length} elements` : v);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${where}[${i}]`);
  };
  walk(value, 0, argument);
  return { shape, values };
}

function isList(v: unknown): v is ArrayLike<Nested> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}
