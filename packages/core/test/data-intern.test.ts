/**
 * Interning UTF-8 straight from an Arrow buffer: every length path (empty, up to 3 bytes through
 * the int32 table, 4–6 bytes through the packed-double map, longer ones decoded), multibyte
 * characters and NUL bytes, with 64-bit offsets, give back exactly the strings that went in.
 */
import { describe, expect, it } from 'vitest';
import { internUtf8 } from '../src/data/arrow/intern.ts';
import { Dictionary } from '../src/data/column.ts';

function arrowStrings(values: readonly string[], wide: boolean): { bytes: Uint8Array; starts: Int32Array } {
  const encoded = values.map((v) => new TextEncoder().encode(v));
  const bytes = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
  const starts = new Int32Array((values.length + 1) * (wide ? 2 : 1));
  let at = 0;
  encoded.forEach((e, i) => {
    bytes.set(e, at);
    at += e.length;
    starts[(i + 1) * (wide ? 2 : 1)] = at;
  });
  return { bytes, starts };
}

describe('internUtf8', () => {
  const distinct = ['', 'A', 'B', 'AB', 'BA', 'SFO', 'SF', '\0A', 'A\0', 'é', 'éé', '日', 'LAXX', 'ABCDEF', 'ABCDEG', 'ABCDEFG', 'a longer value', '日本語テキスト'];
  for (const wide of [false, true]) {
    it(`gives each string one code and back the same string (${wide ? '64' : '32'}-bit offsets)`, () => {
      // Every value many times, in an order that revisits them, past the table's first growth.
      // 676 distinct 2-letter codes outgrow the int32 table's first 512 entries.
      const many = Array.from({ length: 8000 }, (_, i) => (i % 7 === 0 ? `x${i % 1500}` : i % 3 === 0 ? String.fromCharCode(65 + (i % 26), 65 + (((i / 26) | 0) % 26)) : distinct[(i * 7) % distinct.length]!));
      const { bytes, starts } = arrowStrings(many, wide);
      const dictionary = new Dictionary();
      const out = new Int32Array(many.length);
      internUtf8(bytes, starts, wide ? 2 : 1, many.length, dictionary, out);
      expect(Array.from(out, (c) => dictionary.values[c])).toEqual(many);
      expect(dictionary.size).toBe(new Set(many).size);
    });
  }
});
