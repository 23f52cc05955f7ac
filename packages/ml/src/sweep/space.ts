/** Search spaces for {@link sweep}: choices, uniform ranges, log-uniform ranges and integer ranges, sampled with a seeded generator. */
import { ArgumentError } from '@tandem/core';

/** A value a choice may take. */
export type Choice = string | number | boolean | null;

/**
 * One dimension of a search space:
 * - an array: pick one element uniformly (`[64, 128, 256]`, `['adam', 'sgd']`);
 * - `{ range: [lo, hi] }`: uniform real in [lo, hi);
 * - `{ log: [lo, hi] }`: log-uniform real in [lo, hi] (0 < lo < hi), e.g. learning rates;
 * - `{ int: [lo, hi] }`: uniform integer in [lo, hi], both ends included.
 */
export type SpaceEntry =
  | readonly Choice[]
  | { readonly range: readonly [number, number] }
  | { readonly log: readonly [number, number] }
  | { readonly int: readonly [number, number] };

/** Dimension name → how to sample it. */
export type SearchSpace = Readonly<Record<string, SpaceEntry>>;

/** One sampled point of a {@link SearchSpace}. */
export type SampledConfig = Record<string, Choice>;

const SHAPES = 'an array of choices, { range: [lo, hi] }, { log: [lo, hi] } or { int: [lo, hi] }';

function pair(value: unknown, name: string, kind: string): [number, number] {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new ArgumentError(name, `{ ${kind}: [lo, hi] } with two finite numbers`, value);
  }
  return [value[0] as number, value[1] as number];
}

/**
 * Throws an ArgumentError naming `space.<key>` for the first malformed entry.
 *
 * @example
 * ```ts
 * validateSpace({ learningRate: { log: [1e-4, 1e-2] }, hidden: [64, 128] }); // fine
 * validateSpace({ learningRate: { log: [0, 1] } });  // ArgumentError: space.learningRate: expected …
 * ```
 */
export function validateSpace(space: unknown, name = 'space'): asserts space is SearchSpace {
  if (!space || typeof space !== 'object' || Array.isArray(space)) throw new ArgumentError(name, `an object of dimensions (${SHAPES})`, space);
  const keys = Object.keys(space);
  if (keys.length === 0) throw new ArgumentError(name, 'at least one dimension', space);
  for (const key of keys) {
    const entry = (space as Record<string, unknown>)[key];
    const at = `${name}.${key}`;
    if (Array.isArray(entry)) {
      if (entry.length === 0) throw new ArgumentError(at, 'a non-empty array of choices', entry);
      for (const c of entry) {
        const ok = c === null || typeof c === 'string' || typeof c === 'boolean' || (typeof c === 'number' && Number.isFinite(c));
        if (!ok) throw new ArgumentError(at, 'choices that are strings, finite numbers, booleans or null', c);
      }
      continue;
    }
    if (!entry || typeof entry !== 'object') throw new ArgumentError(at, SHAPES, entry);
    const kinds = Object.keys(entry).filter((k) => k === 'range' || k === 'log' || k === 'int');
    if (kinds.length !== 1 || Object.keys(entry).length !== 1) throw new ArgumentError(at, SHAPES, entry);
    const kind = kinds[0]!;
    const [lo, hi] = pair((entry as Record<string, unknown>)[kind], at, kind);
    if (kind === 'range' && !(lo < hi)) throw new ArgumentError(at, '{ range: [lo, hi] } with lo < hi', [lo, hi]);
    if (kind === 'log' && !(lo > 0 && lo < hi)) throw new ArgumentError(at, '{ log: [lo, hi] } with 0 < lo < hi', [lo, hi]);
    if (kind === 'int' && !(Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && lo <= hi)) {
      throw new ArgumentError(at, '{ int: [lo, hi] } with integers lo <= hi', [lo, hi]);
    }
  }
}

const isChoices = (entry: SpaceEntry): entry is readonly Choice[] => Array.isArray(entry);

/**
 * Draws one point from `space` (already validated) with `random` (values in [0, 1)); keys in the space's order.
 *
 * @example
 * ```ts
 * sampleSpace({ hidden: [64, 128], dropout: { range: [0, 0.5] } }, Math.random); // { hidden: 128, dropout: 0.21… }
 * ```
 */
export function sampleSpace(space: SearchSpace, random: () => number): SampledConfig {
  const out: SampledConfig = {};
  for (const [key, entry] of Object.entries(space)) {
    const u = random();
    if (isChoices(entry)) out[key] = entry[Math.min(entry.length - 1, Math.floor(u * entry.length))]!;
    else if ('range' in entry) out[key] = entry.range[0] + u * (entry.range[1] - entry.range[0]);
    else if ('log' in entry) {
      const [lo, hi] = entry.log;
      out[key] = Math.min(hi, Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo))));
    } else {
      const [lo, hi] = entry.int;
      out[key] = lo + Math.min(hi - lo, Math.floor(u * (hi - lo + 1)));
    }
  }
  return out;
}
