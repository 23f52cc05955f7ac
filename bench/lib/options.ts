/** Command-line options shared by the benches. */

/** `--name N`, a positive integer, or `fallback` when absent; a bad value stops the bench with a clear line. */
export function positiveInt(values: Record<string, unknown>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} wants a positive integer, got ${String(raw)}`);
  return n;
}
