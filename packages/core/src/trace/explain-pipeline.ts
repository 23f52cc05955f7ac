/** The data part of `explain()`: the last table pipeline run, stage by stage. */
import type { PipelineRun } from '../data/stages/stage.ts';
import { ms } from './format.ts';
import { kernelLines } from './by-kernel.ts';
import type { Span } from './types.ts';

const mib = (b: number) => `${(b / (1 << 20)).toFixed(1)} MiB`;

/**
 * `Data pipeline (read …): 1.42 s, peak queued 12.3 MiB of 256.0 MiB`, then per stage its rows in
 * and out, batches, and the time it spent working (stages overlap, so these add up to more than
 * the wall time when the pipeline streams well).
 */
export function explainPipeline(run: PipelineRun, spans: readonly Span[] = []): string {
  const lines = [`Data pipeline (${run.source}): ${ms(run.wallMs)} wall, peak queued between stages ${mib(run.peakQueuedBytes)} (budget ${mib(run.maxQueuedBytes)}; largest batch ${mib(run.largestBatchBytes)})`];
  lines.push(`  ${'stage'.padEnd(60)} ${'rows in'.padStart(10)} ${'rows out'.padStart(10)} ${'batches'.padStart(8)} ${'busy'.padStart(10)}`);
  for (const s of run.stages) {
    const label = s.stage.length > 60 ? `${s.stage.slice(0, 57)}...` : s.stage;
    lines.push(`  ${label.padEnd(60)} ${String(s.rowsIn).padStart(10)} ${String(s.rowsOut).padStart(10)} ${String(s.batches).padStart(8)} ${ms(s.busyMs).padStart(10)}`);
  }
  lines.push('  (busy: time a stage spent on its batches, not waiting for input)');
  if (spans.length > 0) {
    // Kernel stages run a planned graph per batch; the graph part of explain() shows only the last one.
    lines.push('  Kernels of this run, every batch (where the planner placed them):', ...kernelLines(spans, '    ', 44));
  }
  return lines.join('\n');
}
