/**
 * `join`: a hash join of the streamed (left) table with a right table that fits in memory — a
 * lookup such as airports by IATA code. The right side is read whole first and indexed by its key;
 * the left side streams through. String keys are matched by their strings (each side has its own
 * dictionary); a left code is looked up once and remembered. Inner joins drop unmatched left rows,
 * left joins keep them with nulls in the right's columns; a key matching several right rows gives
 * a row per match.
 */
import { extname } from 'node:path';
import { ArgumentError } from '../../errors.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import type { Batch, Schema } from '../batch.ts';
import { concatColumns, gatherColumn, makeColumn, type Column, type Dictionary } from '../column.ts';
import { requireColumns } from './columns.ts';
import { neededBefore, perBatch, type Stage, type StageContext } from './stage.ts';
import { matchRows, type LookupRows, type RightColumn } from './lookup-rows.ts';

/** Batches at least this long are looked up in a CPU worker, several at once; shorter ones here. */
const WORKER_MIN_ROWS = 1 << 16;
const LOOKUP_MODULE = new URL(`./lookup-rows${extname(import.meta.url)}`, import.meta.url);

export interface JoinOptions {
  /** The left table's key column. */
  readonly on: string;
  /** The right table's key column. Default: the same name as `on`. */
  readonly right?: string;
  /** 'inner' (default) or 'left'. */
  readonly how?: 'inner' | 'left';
  /** Added to the right's column names that the left already has. Default '_right'. */
  readonly suffix?: string;
}

/** The right side, read whole: its columns and, per key, the rows holding it. */
export interface JoinIndex {
  readonly rows: number;
  readonly columns: ReadonlyMap<string, Column>;
  /** First row of each key id, then the next row of the same key (-1 ends). */
  readonly first: Map<number, number>;
  readonly next: Int32Array;
  /** For a string key: the right's dictionary. */
  readonly dictionary?: Dictionary;
  /** No key appears twice on the right: each left row matches at most one row. */
  readonly unique: boolean;
}

/**
 * The join of one batch when each left row matches at most one right row, found by its key's
 * code: in a CPU worker for a large batch (lookup-rows.ts), else here.
 */
async function lookupJoin(b: Batch, codes: Tensor, firstByCode: Int32Array, idx: JoinIndex, rename: ReadonlyMap<string, string>, how: 'inner' | 'left', context: StageContext): Promise<Batch> {
  if (context.session.workers() > 0 && b.rows >= WORKER_MIN_ROWS) {
    const right = [...rename.keys()].map((name): RightColumn => ({ values: idx.columns.get(name)!.values, validity: idx.columns.get(name)!.validity ?? null }));
    const r = await context.session.runLocal<LookupRows>(LOOKUP_MODULE, 'lookupRows', [codes, firstByCode, right]);
    if ('gathered' in r) {
      const columns = new Map<string, Column>(b.columns);
      [...rename].forEach(([name, as], i) => {
        const c = idx.columns.get(name)!;
        columns.set(as, makeColumn(c.type, r.gathered[i]!.values, r.gathered[i]!.validity, c.dictionary));
      });
      return { rows: b.rows, columns };
    }
    return joinMatched(b, r.rightRows, r.misses, idx, rename, how);
  }
  const { rightRows, misses } = matchRows(codes.data, b.rows, firstByCode);
  return joinMatched(b, rightRows, misses, idx, rename, how);
}

/** The batch `b` joined with the right rows `rightRows` (-1: none; `misses` of them). */
function joinMatched(b: Batch, matched: Int32Array, misses: number, idx: JoinIndex, rename: ReadonlyMap<string, string>, how: 'inner' | 'left'): Batch {
  const rows = b.rows;
  let rightRows = matched;
  const columns = new Map<string, Column>();
  let missing: Uint8Array | undefined;
  let n = rows;
  if (misses === 0) {
    for (const [name, c] of b.columns) columns.set(name, c);
  } else if (how === 'inner') {
    const leftRows = new Int32Array(rows - misses);
    const kept = new Int32Array(rows - misses);
    n = 0;
    for (let r = 0; r < rows; r++) {
      const m = rightRows[r]!;
      if (m < 0) continue;
      leftRows[n] = r;
      kept[n++] = m;
    }
    rightRows = kept;
    for (const [name, c] of b.columns) columns.set(name, gatherColumn(c, leftRows));
  } else {
    for (const [name, c] of b.columns) columns.set(name, c);
    missing = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) {
      if (rightRows[r]! < 0) rightRows[r] = 0;
      else missing[r] = 1;
    }
  }
  addRightColumns(columns, idx, rename, rightRows, missing);
  return { rows: n, columns };
}

/** The right's columns at `rightRows` into `columns`, under their output names; `missing` marks a left join's misses (null). */
function addRightColumns(columns: Map<string, Column>, idx: JoinIndex, rename: ReadonlyMap<string, string>, rightRows: Int32Array, missing: Uint8Array | undefined): void {
  for (const [name, as] of rename) {
    const g = gatherColumn(idx.columns.get(name)!, rightRows);
    let validity = g.validity;
    if (missing) validity = validity ? validity.map((v, i) => v & missing[i]!) : missing;
    columns.set(as, makeColumn(g.type, g.values, validity, g.dictionary));
  }
}

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2 || 16);
  b.set(a);
  return b;
}

/** Builds the index of the right side from its batches. */
export function buildJoinIndex(batches: readonly Batch[], rightSchema: Schema, key: string): JoinIndex {
  const columns = new Map<string, Column>();
  for (const [name, type] of rightSchema) columns.set(name, concatColumns(batches.map((b) => b.columns.get(name)!), type));
  const k = columns.get(key)!;
  const rows = k.values.size;
  const first = new Map<number, number>();
  const next = new Int32Array(rows).fill(-1);
  let unique = true;
  // Walk backwards so that each chain lists rows in their order.
  for (let r = rows - 1; r >= 0; r--) {
    if (k.validity && k.validity[r] === 0) continue; // a null key matches nothing
    const v = k.values.data[r]!;
    const at = first.get(v);
    if (at !== undefined) {
      next[r] = at;
      unique = false;
    }
    first.set(v, r);
  }
  return { rows, columns, first, next, unique, ...(k.dictionary ? { dictionary: k.dictionary } : {}) };
}

export function joinStage(schema: Schema, rightSchema: Schema, options: unknown, index: () => Promise<JoinIndex>): Stage {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', "{ on: 'column', right?: 'column', how?: 'inner' | 'left' }", options);
  const o = options as JoinOptions;
  requireColumns(schema, o.on, 'options.on');
  const rightKey = o.right ?? o.on;
  requireColumns(rightSchema, rightKey, 'options.right');
  const how = o.how ?? 'inner';
  if (how !== 'inner' && how !== 'left') throw new ArgumentError('options.how', "'inner' or 'left'", how);
  const suffix = o.suffix ?? '_right';
  if (typeof suffix !== 'string' || suffix === '') throw new ArgumentError('options.suffix', 'a non-empty string', suffix);
  const leftType = schema.get(o.on)!;
  const rightType = rightSchema.get(rightKey)!;
  if ((leftType === 'string') !== (rightType === 'string')) {
    throw new ArgumentError('options.right', `a key of the same kind as '${o.on}' (${leftType})`, `'${rightKey}' of type ${rightType}`);
  }
  const out = new Map(schema);
  const rename = new Map<string, string>();
  for (const [name, type] of rightSchema) {
    if (name === rightKey) continue;
    const as = out.has(name) ? `${name}${suffix}` : name;
    if (out.has(as)) throw new ArgumentError('options.suffix', `a suffix that makes '${name}' unique`, suffix);
    rename.set(name, as);
    out.set(as, type);
  }
  return {
    label: `join ${how} on ${o.on} = ${rightKey} (+ ${[...rename.values()].join(', ')})`,
    schema: out,
    needs: (output) => neededBefore(output, [o.on], [...rename.values()]),
    run: (input, context) => {
      let ready: Promise<JoinIndex> | undefined;
      // A string key: each left code's first right row, found by its string once and kept.
      let firstByCode = new Int32Array(0);
      let mapped = 0;
      return perBatch(input, context, async (b) => {
        const idx = await (ready ??= index());
        const key = b.columns.get(o.on)!;
        if (idx.dictionary) {
          const dict = key.dictionary!;
          if (dict.size > mapped) {
            const grown = new Int32Array(Math.max(dict.size, firstByCode.length * 2));
            grown.set(firstByCode.subarray(0, mapped));
            for (let c = mapped; c < dict.size; c++) grown[c] = idx.first.get(idx.dictionary.find(dict.values[c]!)) ?? -1;
            firstByCode = grown;
            mapped = dict.size;
          }
        }
        const keys = key.values.data;
        // A lookup (one right row per key) on a string key without nulls, the common case: one
        // tight pass, and no pair lists when every left row matched.
        if (idx.unique && idx.dictionary && !key.validity) return lookupJoin(b, key.values, firstByCode.subarray(0, mapped), idx, rename, how, context);
        const firstOf = (r: number): number => {
          if (key.validity && key.validity[r] === 0) return -1;
          return idx.dictionary ? firstByCode[keys[r]!]! : idx.first.get(keys[r]!) ?? -1;
        };
        // Pairs (left row, right row); a right row of -1 is a left join's miss.
        let left: Int32Array = new Int32Array(b.rows);
        let right: Int32Array = new Int32Array(b.rows);
        let n = 0;
        let aligned = true; // left[i] === i so far: the left columns can be passed as they are
        const push = (l: number, r: number) => {
          if (n === left.length) {
            left = grow(left);
            right = grow(right);
          }
          if (l !== n) aligned = false;
          left[n] = l;
          right[n++] = r;
        };
        for (let r = 0; r < b.rows; r++) {
          let m = firstOf(r);
          if (m < 0) {
            if (how === 'left') push(r, -1);
            continue;
          }
          for (; m >= 0; m = idx.next[m]!) push(r, m);
        }
        aligned &&= n === b.rows;
        const leftRows = left.subarray(0, n);
        const rightRows = right.subarray(0, n);
        const columns = new Map<string, Column>();
        for (const [name, c] of b.columns) columns.set(name, aligned ? c : gatherColumn(c, leftRows));
        let missing: Uint8Array | undefined;
        if (how === 'left' && rightRows.includes(-1)) {
          missing = Uint8Array.from(rightRows, (v) => (v < 0 ? 0 : 1));
          for (let i = 0; i < n; i++) if (rightRows[i]! < 0) rightRows[i] = 0;
        }
        addRightColumns(columns, idx, rename, rightRows, missing);
        return { rows: n, columns };
      }, Math.max(1, context.session.workers()));
    },
  };
}
