/** CPU-bound tasks of a chosen length for the pool and cluster benches: `spin` calibrated here. */
import { spin } from '../tasks/spin.ts';
import { median } from './stats.ts';

/** Iterations of `spin` that take about `targetMs` here (calibrated on the main thread). */
export function calibrateSpin(targetMs: number): { iterations: number; measuredMs: number } {
  for (let i = 0; i < 20; i++) spin(200_000);
  const timeOf = (n: number) => {
    const t = performance.now();
    spin(n);
    return performance.now() - t;
  };
  const probe = 2_000_000;
  const perIter = median(Array.from({ length: 5 }, () => timeOf(probe))) / probe;
  const iterations = Math.max(1, Math.round(targetMs / perIter));
  return { iterations, measuredMs: median(Array.from({ length: 5 }, () => timeOf(iterations))) };
}
