/**
 * CPU-bound task: `iterations` steps of real arithmetic (an LCG feeding square roots), no
 * sleeping. The result depends on every step so nothing can be optimised away.
 */
export function spin(iterations: number): number {
  let x = 1;
  let acc = 0;
  for (let i = 0; i < iterations; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    acc += Math.sqrt(x);
  }
  return acc;
}
