/**
 * Integer shares of `total` proportional to `weights`, largest remainder first; sums to `total`.
 *
 * @example
 * ```ts
 * splitProportional(100, [3, 1]); // [75, 25]
 * ```
 */
export function splitProportional(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const ideal = weights.map((w) => (sum > 0 ? (w / sum) * total : total / weights.length));
  const out = ideal.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = ideal.map((v, i) => [v - Math.floor(v), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k]![1]]!++;
  return out;
}
