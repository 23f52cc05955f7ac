import type { CostModel } from '../planner/cost-model.ts';
import type { Span } from './recorder.ts';

const ms = (v: number | undefined) => (v === undefined ? '—' : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(2)} ms`);
const bytes = (v: unknown) => {
  const n = typeof v === 'number' ? v : 0;
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
};

/** The kernel a span ran: its name up to the range, e.g. `matmul[0:4096)` → `matmul`. */
function kernelOf(span: Span): string {
  const i = span.name.indexOf('[');
  return i < 0 ? span.name : span.name.slice(0, i);
}

/**
 * The text of `explain()`: the most recent tasks and chunks, then per device busy time and
 * utilisation over the recorded period, then the makespan against the best single device's
 * predicted time for the same work.
 */
export function explainSpans(spans: readonly Span[], devices: readonly string[], costs: CostModel, last = 40): string {
  if (spans.length === 0) return 'nothing has run on the devices yet';
  const lines: string[] = [];
  const shown = spans.slice(-last);
  lines.push(`Tasks and chunks${spans.length > last ? ` (last ${last} of ${spans.length})` : ''}:`);
  lines.push(`  ${'device'.padEnd(12)} ${'task'.padEnd(28)} ${'predicted'.padStart(10)} ${'measured'.padStart(10)} ${'moved'.padStart(10)}`);
  for (const s of shown) {
    const failed = s.args.error ? `  FAILED: ${String(s.args.error)}` : '';
    lines.push(`  ${s.track.padEnd(12)} ${s.name.slice(0, 28).padEnd(28)} ${ms(s.args.predictedMs as number | undefined).padStart(10)} ${ms(s.duration).padStart(10)} ${bytes(s.args.bytesMoved).padStart(10)}${failed}`);
  }
  const start = Math.min(...spans.map((s) => s.start));
  const end = Math.max(...spans.map((s) => s.start + s.duration));
  const makespan = end - start;
  lines.push('Devices:');
  for (const d of devices) {
    const mine = spans.filter((s) => s.track === d);
    const busy = mine.reduce((sum, s) => sum + s.duration, 0);
    const moved = mine.reduce((sum, s) => sum + (typeof s.args.bytesMoved === 'number' ? s.args.bytesMoved : 0), 0);
    lines.push(`  ${d.padEnd(12)} ${String(mine.length).padStart(5)} pieces  busy ${ms(busy).padStart(10)}  utilisation ${makespan > 0 ? ((100 * busy) / makespan).toFixed(0).padStart(3) : '  0'}%  moved ${bytes(moved)}`);
  }
  // What the same work was predicted to take on each device alone.
  let best: { device: string; ms: number } | undefined;
  for (const d of devices) {
    let total = 0;
    let known = true;
    for (const s of spans) {
      const t = costs.predictKernel(kernelOf(s), d, typeof s.args.elements === 'number' ? s.args.elements : 0);
      if (t === undefined) {
        known = false;
        break;
      }
      total += t;
    }
    if (known && (!best || total < best.ms)) best = { device: d, ms: total };
  }
  const versus = best ? `; the best single device, ${best.device}, was predicted to take ${ms(best.ms)} (${(best.ms / Math.max(makespan, 1e-9)).toFixed(2)}× the makespan)` : '; no single device has a model for all of this work yet';
  lines.push(`Makespan ${ms(makespan)}${versus}`);
  return lines.join('\n');
}
