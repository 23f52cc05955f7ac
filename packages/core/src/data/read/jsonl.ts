/** JSON lines: one JSON object per line; columns are the first objects' keys, in order of appearance. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DataFormatError } from '../../errors.ts';
import { fetchBody } from './http.ts';
import type { ReadOptions, Source } from './source.ts';
import { openTextRows, type TextPass, type TextRecord } from './text-rows.ts';

export function openJsonl(location: string, isUrl: boolean, options: ReadOptions): Promise<Source> {
  let keys: string[] | undefined;
  return openTextRows(location, () => {
    let resolveNames!: (names: readonly string[]) => void;
    const names = new Promise<readonly string[]>((res) => (resolveNames = res));
    const inferRows = options.inferRows ?? 1000;
    async function* records(): AsyncGenerator<TextRecord> {
      const input = isUrl ? await fetchBody(location) : createReadStream(location);
      const lines = createInterface({ input, crlfDelay: Infinity });
      const pending: { object: Record<string, unknown>; line: number }[] = [];
      const seen = keys ? undefined : new Set<string>();
      let line = 0;
      try {
        for await (const text of lines) {
          line++;
          if (text.trim() === '') continue;
          let object: unknown;
          try {
            object = JSON.parse(text);
          } catch (error) {
            throw new DataFormatError(location, `not JSON: ${(error as Error).message}`, { row: line });
          }
          if (typeof object !== 'object' || object === null || Array.isArray(object)) throw new DataFormatError(location, 'expected a JSON object per line', { row: line });
          const o = object as Record<string, unknown>;
          if (!keys) {
            // The header is the union of the keys of the first rows, in order of appearance.
            for (const k of Object.keys(o)) seen!.add(k);
            pending.push({ object: o, line });
            if (pending.length < inferRows) continue;
            keys = [...seen!];
          }
          resolveNames(keys);
          for (const p of pending.splice(0)) yield { values: keys.map((k) => p.object[k]), line: p.line };
          yield { values: keys.map((k) => o[k]), line };
        }
        keys ??= [...(seen ?? [])];
        resolveNames(keys);
        for (const p of pending.splice(0)) yield { values: keys.map((k) => p.object[k]), line: p.line };
      } finally {
        lines.close();
        input.destroy();
      }
    }
    return { names, records: records() };
  }, options);
}
