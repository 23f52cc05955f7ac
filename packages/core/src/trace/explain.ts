import type { CostModel } from '../planner/cost-model.ts';
import type { Replan } from '../planner/replan.ts';
import { ms } from './format.ts';
import { groupOf, kernelLines } from './by-kernel.ts';
import type { Activity, GraphRun, Span } from './types.ts';

const bytes = (v: unknown) => {
  const n = typeof v === 'number' ? v : 0;
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
};

/** What the per-kernel summary groups a span under: its kernel, and what it was for when not the op itself (`matmul (calibration)`). */

/** Time covered by at least one span: overlapping pieces on one device count once. */
function busyTime(spans: ReadonlyArray<{ readonly start: number; readonly duration: number }>): number {
  const intervals = spans.map((s) => [s.start, s.start + s.duration] as const).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [a, b] of intervals) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

/**
 * The text of `explain()` for the last planned graph: its pieces (the most recent `last` of them,
 * then a summary per kernel and device), per device busy time and utilisation, and the makespan
 * against the best single device's predicted time for the same ops.
 */
export function explainSpans(allSpans: readonly Span[], run: GraphRun | undefined, devices: readonly string[], costs: CostModel, last = 24, allActivities: readonly Activity[] = []): string {
  const spans = run ? allSpans.filter((s) => s.graph === run.id) : allSpans;
  const activities = run ? allActivities.filter((a) => a.graph === run.id) : allActivities;
  if (spans.length === 0) return 'nothing has run on the devices yet';
  const lines: string[] = [];
  lines.push(`Last graph: ${run ? run.nodes.length : '?'} op${run?.nodes.length === 1 ? '' : 's'}, ${spans.length} piece${spans.length === 1 ? '' : 's'}${spans.length > last ? ` (the last ${last} shown)` : ''}:`);
  lines.push(`  ${'device'.padEnd(12)} ${'task'.padEnd(36)} ${'predicted'.padStart(10)} ${'measured'.padStart(10)} ${'moved'.padStart(10)}`);
  for (const s of spans.slice(-last)) {
    const failed = s.args.error ? `  FAILED: ${String(s.args.error)}` : '';
    lines.push(`  ${s.track.padEnd(12)} ${s.name.slice(0, 36).padEnd(36)} ${ms(s.args.predictedMs as number | undefined).padStart(10)} ${ms(s.duration).padStart(10)} ${bytes(s.args.bytesMoved).padStart(10)}${failed}`);
  }
  lines.push('By kernel and device:', ...kernelLines(spans, '  ', 40));

  const start = Math.min(...spans.map((s) => s.start));
  const end = Math.max(...spans.map((s) => s.start + s.duration));
  const makespan = end - start;
  lines.push('Devices:');
  for (const d of devices) {
    const mine = spans.filter((s) => s.track === d);
    const busy = busyTime(mine);
    const moved = mine.reduce((sum, s) => sum + (typeof s.args.bytesMoved === 'number' ? s.args.bytesMoved : 0), 0);
    lines.push(`  ${d.padEnd(12)} ${String(mine.length).padStart(5)} pieces  busy ${ms(busy).padStart(10)}  utilisation ${makespan > 0 ? ((100 * busy) / makespan).toFixed(0).padStart(3) : '  0'}%  moved ${bytes(moved)}`);
    // Inside the device's busy time: each lane's own, and the transfers'. Not added to the above: they overlap it.
    const lanes = new Map<string, Activity[]>();
    for (const a of activities) if (a.device === d) lanes.set(a.lane, [...(lanes.get(a.lane) ?? []), a]);
    const inside = [...lanes].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([lane, list]) => {
      const sent = list.reduce((sum, a) => sum + (typeof a.args.bytes === 'number' ? a.args.bytes : 0), 0);
      return `${lane} ${ms(busyTime(list))}${lane === 'transfers' ? ` (${list.length}, ${bytes(sent)})` : ''}`;
    });
    if (inside.length > 0) lines.push(`  ${''.padEnd(12)} ${inside.join(' · ')}`);
  }
  // What the graph's ops were predicted to take, each whole, all on one device.
  let best: { device: string; ms: number } | undefined;
  for (const d of devices) {
    let total = 0;
    for (const node of run?.nodes ?? []) {
      const t = costs.predictKernel(node.key, d, node.elements);
      if (t === undefined) {
        total = Number.NaN;
        break;
      }
      total += t;
    }
    if (run && Number.isFinite(total) && (!best || total < best.ms)) best = { device: d, ms: total };
  }
  const versus = best
    ? `; the best single device, ${best.device}, was predicted to take ${ms(best.ms)} (${(best.ms / Math.max(makespan, 1e-9)).toFixed(2)}× the makespan)`
    : '; no single device has a model for all of these ops yet';
  lines.push(`Makespan ${ms(makespan)}${versus}`);
  if (run && run.replans.length > 0) lines.push(...describeReplans(run.replans));
  return lines.join('\n');
}

/** `Re-planned 2 times:` and a line per re-plan: the run that prompted it, and the nodes it moved. */
function describeReplans(replans: readonly Replan[]): string[] {
  const lines = [`Re-planned ${replans.length} time${replans.length === 1 ? '' : 's'} while running:`];
  for (const r of replans) {
    const moved = r.moved.length === 0 ? 'nothing moved' : r.moved.map((m) => `${m.node} (${m.kernel}) ${m.from} → ${m.to}`).join(', ');
    lines.push(`  after ${r.after.node} (${r.after.kernel} on ${r.after.device}: predicted ${ms(r.predictedMs)}, measured ${ms(r.measuredMs)}, ${r.reason}): ${moved}`);
  }
  return lines;
}
