/** The cluster part of `explain()`: the nodes tasks go to, and what each has done. */
import type { NodeInfo } from '../cluster/heartbeat.ts';
import type { LinkCosts } from '../cluster/link.ts';
import type { Placement } from '../cluster/placement.ts';

/** `Cluster (redis 10.0.0.5:6379): 2 nodes`, then a line per node with its devices and counts. */
export function explainCluster(where: string, nodes: readonly NodeInfo[], placing?: { link: LinkCosts | undefined; last: (Placement & { call: string }) | undefined }): string {
  const lines = [`Cluster (redis ${where}): ${nodes.length} node${nodes.length === 1 ? '' : 's'} live`];
  if (placing?.link) lines.push(`  link (measured): ${placing.link.roundTripMs.toFixed(2)} ms round trip, ${placing.link.blobMBps.toFixed(0)} MB/s storing and fetching a 4 MiB blob`);
  if (placing?.last) lines.push(`  last call ${placing.last.call}: ${placing.last.where === 'local' ? 'run on this machine' : 'sent to the cluster'} — ${placing.last.why}`);
  for (const n of nodes) {
    lines.push(`  ${n.name.padEnd(28)} ${String(n.workers).padStart(3)} workers  running ${String(n.running).padStart(4)}  done ${String(n.completed).padStart(7)}  failed ${String(n.failed).padStart(4)}${n.stats ? `  tasks ${String(n.stats.tasks.completed).padStart(7)}  busy ${String(Math.round(n.stats.utilisation * 100)).padStart(3)}%` : ''}  ${n.devices.map((d) => d.split(' — ')[0]).join(', ')}`);
  }
  return lines.join('\n');
}
