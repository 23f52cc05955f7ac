/** The training part of `explain()`: per replica where it ran, its share, and where its step time went. */
import { ms } from './format.ts';
import type { TrainingRun } from './types.ts';

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/**
 * `Training (model …, batch 256):`, then per replica its engine and device, planned and actual
 * share, predicted vs measured compute per step, and the mean wait at the barrier and all-reduce
 * per step; then each device left out, with why.
 */
export function explainTraining(run: TrainingRun): string {
  const examples = run.replicas.reduce((sum, r) => sum + r.examples, 0);
  const lines = [`Training (model ${run.signature}, batch ${run.batchSize}): ${run.replicas.length} replica${run.replicas.length === 1 ? '' : 's'}`];
  lines.push(`  ${'replica'.padEnd(8)} ${'engine'.padEnd(8)} ${'device'.padEnd(10)} ${'worker'.padStart(6)} ${'planned'.padStart(8)} ${'share'.padStart(7)} ${'predicted'.padStart(10)} ${'measured'.padStart(10)} ${'wait'.padStart(10)} ${'all-reduce'.padStart(10)}`);
  for (const r of run.replicas) {
    const per = (total: number) => (r.steps > 0 ? total / r.steps : undefined);
    lines.push(`  ${String(r.slot).padEnd(8)} ${r.engine.padEnd(8)} ${r.device.padEnd(10)} ${(r.worker === undefined ? '—' : String(r.worker)).padStart(6)} ${pct(r.plannedShare).padStart(8)} ${(examples > 0 ? pct(r.examples / examples) : '—').padStart(7)} ${ms(r.predictedStepMs).padStart(10)} ${ms(per(r.computeMs)).padStart(10)} ${ms(per(r.waitMs)).padStart(10)} ${ms(per(r.allreduceMs)).padStart(10)}`);
  }
  lines.push('  (per step: predicted and measured compute of the replica\'s share, time waiting at the barrier, and summing the gradients + optimizer step)');
  for (const e of run.excluded) lines.push(`  no replica on ${e.device} (${e.engine}): ${e.reason}`);
  return lines.join('\n');
}
