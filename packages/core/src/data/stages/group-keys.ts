/**
 * Group ids of rows by their key columns. Each key column gives a dense id per distinct value —
 * a string column its dictionary code as it is (already dense), a number column an id from a map —
 * and the ids of several columns are packed into one number (52 bits shared between them), looked
 * up in one map. The first row of each group is remembered, to write the keys out at the end.
 */
import type { Batch } from '../batch.ts';
import type { Column } from '../column.ts';

/** Null keys form their own group, as in SQL's GROUP BY. */
const NULL_ID = 0;
/** Largest table of code pairs (int32 cells: 64 MiB); beyond, pairs go through the map. */
const MAX_PAIR_CELLS = 1 << 24;

export class GroupKeys {
  /** Per key column: number value → dense id (ids start at 1; 0 is null). Unused for strings. */
  private readonly ids: (Map<number, number> | undefined)[];
  private readonly groups = new Map<number, number>();
  /** Per group, its key columns' values (for strings the code) and whether each is null. */
  readonly keyValues: number[][];
  readonly keyNull: boolean[][];
  private readonly bits: number;

  constructor(private readonly keys: readonly string[], private readonly stringKeys: readonly boolean[]) {
    this.ids = keys.map((_, i) => (stringKeys[i] ? undefined : new Map()));
    this.keyValues = keys.map(() => []);
    this.keyNull = keys.map(() => []);
    this.bits = Math.floor(52 / keys.length);
  }

  get size(): number {
    return this.groups.size;
  }

  /** For one string key: group index + 1 by dictionary code (0: not seen yet). */
  private byCode = new Int32Array(0);

  /** Writes each row's group index into `out`. */
  assign(batch: Batch, out: Int32Array): void {
    const cols = this.keys.map((k) => batch.columns.get(k)!);
    if (cols.length === 1 && this.stringKeys[0] && !cols[0]!.validity) {
      this.assignByCode(cols[0]!, batch.rows, out);
      return;
    }
    if (cols.length === 2 && this.stringKeys[0] && this.stringKeys[1] && !cols[0]!.validity && !cols[1]!.validity && this.assignByPair(cols[0]!, cols[1]!, batch.rows, out)) return;
    const scale = 2 ** this.bits;
    const limit = scale - 1;
    for (let r = 0; r < batch.rows; r++) {
      let key = 0;
      for (let k = 0; k < cols.length; k++) {
        const id = this.idOf(k, cols[k]!, r);
        if (id > limit) throw new RangeError(`groupBy: more than ${limit} distinct values in key '${this.keys[k]}'`);
        key = key * scale + id;
      }
      let g = this.groups.get(key);
      if (g === undefined) {
        g = this.groups.size;
        this.groups.set(key, g);
        for (let k = 0; k < cols.length; k++) {
          const c = cols[k]!;
          const isNull = c.validity !== undefined && c.validity[r] === 0;
          this.keyNull[k]!.push(isNull);
          this.keyValues[k]!.push(isNull ? 0 : c.values.data[r]!);
        }
      }
      out[r] = g;
    }
  }

  /**
   * One string key without nulls, the common case (group by airport, by category): codes are
   * dense, so an array indexed by code finds the group without a map lookup per row.
   */
  private assignByCode(c: Column, rows: number, out: Int32Array): void {
    const codes = c.values.data as Int32Array;
    const size = c.dictionary!.size;
    if (this.byCode.length < size) {
      const grown = new Int32Array(Math.max(size, this.byCode.length * 2));
      grown.set(this.byCode);
      this.byCode = grown;
    }
    const byCode = this.byCode;
    for (let r = 0; r < rows; r++) {
      const code = codes[r]!;
      let g = byCode[code]! - 1;
      if (g < 0) {
        g = this.groupOfCodes(code + 1, [code]);
        byCode[code] = g + 1;
      }
      out[r] = g;
    }
  }

  /** For two string keys: group index + 1 by `code0 · stride + code1` (0: not seen yet). */
  private byPair: { stride: number; table: Int32Array } | undefined;

  /**
   * Two string keys without nulls (group by route: origin and destination): the pair of codes
   * indexes a table, as one code does in {@link assignByCode}. False when the table would be too
   * large (the dictionaries are big), and the general path runs instead.
   */
  private assignByPair(c0: Column, c1: Column, rows: number, out: Int32Array): boolean {
    const size0 = c0.dictionary!.size;
    const size1 = c1.dictionary!.size;
    let pair = this.byPair;
    if (!pair || size1 > pair.stride || size0 * pair.stride > pair.table.length) {
      let stride = pair?.stride ?? 64;
      while (stride < size1) stride *= 2;
      const cells = Math.max(size0 * stride, (pair?.table.length ?? 0) * 2, 4096);
      if (cells > MAX_PAIR_CELLS) return false;
      // Re-laid out from the groups so far (those without a null key: nulls never come here). Only
      // a shortcut: a pair missing from the table is still found in the map below.
      const table = new Int32Array(cells);
      for (let g = 0; g < this.groups.size; g++) {
        if (this.keyNull[0]![g] || this.keyNull[1]![g]) continue;
        table[this.keyValues[0]![g]! * stride + this.keyValues[1]![g]!] = g + 1;
      }
      pair = this.byPair = { stride, table };
    }
    const { stride, table } = pair;
    const codes0 = c0.values.data as Int32Array;
    const codes1 = c1.values.data as Int32Array;
    const scale = 2 ** this.bits;
    for (let r = 0; r < rows; r++) {
      const a = codes0[r]!;
      const b = codes1[r]!;
      const at = a * stride + b;
      let g = table[at]! - 1;
      if (g < 0) {
        g = this.groupOfCodes((a + 1) * scale + (b + 1), [a, b]);
        table[at] = g + 1;
      }
      out[r] = g;
    }
    return true;
  }

  /**
   * The group of string keys with these codes (none null), found in the map under `key` — the key
   * the general path gives them, so that both paths agree — or made there. Called by the fast
   * paths only when their table has no entry yet.
   */
  private groupOfCodes(key: number, codes: readonly number[]): number {
    let g = this.groups.get(key);
    if (g === undefined) {
      g = this.groups.size;
      this.groups.set(key, g);
      codes.forEach((code, k) => {
        this.keyNull[k]!.push(false);
        this.keyValues[k]!.push(code);
      });
    }
    return g;
  }

  private idOf(k: number, c: Column, r: number): number {
    if (c.validity && c.validity[r] === 0) return NULL_ID;
    const v = c.values.data[r]!;
    const map = this.ids[k];
    if (!map) return v + 1;
    let id = map.get(v);
    if (id === undefined) map.set(v, (id = map.size + 1));
    return id;
  }
}
