/**
 * Interning UTF-8 strings straight from an Arrow buffer. Decoding every value to a JS string costs
 * more than everything else a reader does (6 million airport codes in flights-3m); short values
 * (≤ 6 bytes, like codes and tags) are keyed by their bytes packed into one number instead, and
 * only a value never seen before is decoded.
 */
import type { Dictionary } from '../column.ts';

const decoder = new TextDecoder();

/**
 * Writes the dictionary code of each of the `n` strings `bytes[starts[i·stride], starts[(i + 1)·stride])`
 * into `out` (stride 2 reads the low words of 64-bit offsets).
 */
export function internUtf8(bytes: Uint8Array, starts: Int32Array, stride: 1 | 2, n: number, dictionary: Dictionary, out: Int32Array): void {
  const short = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const a = starts[i * stride]!;
    const len = starts[(i + 1) * stride]! - a;
    if (len <= 6) {
      // 8 bits per byte plus the length: distinct for distinct strings, exact in a double (< 2^51).
      let key = len;
      for (let j = 0; j < len; j++) key = key * 256 + bytes[a + j]!;
      let code = short.get(key);
      if (code === undefined) short.set(key, (code = dictionary.code(decoder.decode(bytes.subarray(a, a + len)))));
      out[i] = code;
    } else {
      out[i] = dictionary.code(decoder.decode(bytes.subarray(a, a + len)));
    }
  }
}
