/** Tiny task for Tandem (loaded by workers through tsx). */
export function inc(x: number): number {
  return x + 1;
}
