/** Inclusive prefix sums in float64, each plus `offset` (the sum of everything before the chunk). */
export function cumsum(x: Float32Array, o: Float32Array, offset: number): void {
  let acc = offset;
  for (let i = 0; i < x.length; i++) o[i] = acc += x[i]!;
}
