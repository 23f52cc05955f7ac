/** The cluster part of `explain()`: the nodes tasks go to, and what each has done. */
import type { NodeInfo } from '../cluster/heartbeat.ts';

/** `Cluster (redis 10.0.0.5:6379): 2 nodes`, then a line per node with its devices and counts. */
export function explainCluster(where: string, nodes: readonly NodeInfo[]): string {
  const lines = [`Cluster (redis ${where}): ${nodes.length} node${nodes.length === 1 ? '' : 's'} live`];
  for (const n of nodes) {
    lines.push(`  ${n.name.padEnd(28)} ${String(n.workers).padStart(3)} workers  running ${String(n.running).padStart(4)}  done ${String(n.completed).padStart(7)}  failed ${String(n.failed).padStart(4)}${n.stats ? `  tasks ${String(n.stats.tasks.completed).padStart(7)}  busy ${String(Math.round(n.stats.utilisation * 100)).padStart(3)}%` : ''}  ${n.devices.map((d) => d.split(' — ')[0]).join(', ')}`);
  }
  return lines.join('\n');
}
