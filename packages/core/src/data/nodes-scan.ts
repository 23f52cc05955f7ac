/**
 * A table's scan and aggregation on a cluster's nodes: a source every node can read (a URL, or a
 * path they all mount) is cut into jobs of a few Parquet row groups; each node reads its row
 * groups, rebuilds the table's stages from its recipe, and sends back only partial aggregates (a
 * group-by's groups, or a count), which the client merges. Rows never cross the network.
 *
 * Partials are merged in job order, not as they arrive, so a float sum is the same from one run
 * to the next whichever node finished first.
 */
import type { Batch } from './batch.ts';
import type { Recipe, Step } from './recipe.ts';
import type { Source } from './read/source.ts';
import { GroupState, type AggSpec, type GroupBySpec, type PartialGroups } from './stages/group-by.ts';
import type { ClusterScan } from './stages/stage.ts';

/** The module a node runs a scan job from (nodes must allow `@tandem/core`). */
export const REMOTE_TABLE_MODULE = '@tandem/core/internal/cluster/remote-table';
/** Jobs per node: a slow node's last job is a small share of the whole. */
const JOBS_PER_NODE = 2;

/** What a node is asked to do: read these row groups, apply the steps, then aggregate or count. */
export interface ScanJob {
  readonly location: string;
  readonly rowGroups: readonly number[];
  readonly steps: readonly Step[];
  readonly groupBy?: { readonly keys: readonly string[]; readonly spec: AggSpec };
}

/** What it sends back: rows it read through the stages, and its groups' partial aggregates. */
export interface ScanResult {
  readonly rows: number;
  readonly partial?: PartialGroups;
}

/** The row groups of `shared` cut into contiguous jobs, about {@link JOBS_PER_NODE} per node. */
export function scanJobs(shared: { location: string; parts: number }, recipe: Recipe, nodes: number): ScanJob[] {
  const jobs = Math.max(1, Math.min(shared.parts, nodes * JOBS_PER_NODE));
  const out: ScanJob[] = [];
  for (let j = 0; j < jobs; j++) {
    const from = Math.round((j * shared.parts) / jobs);
    const to = Math.round(((j + 1) * shared.parts) / jobs);
    if (to > from) {
      out.push({
        location: shared.location,
        rowGroups: Array.from({ length: to - from }, (_, i) => from + i),
        steps: recipe.steps,
        ...(recipe.groupBy ? { groupBy: recipe.groupBy } : {}),
      });
    }
  }
  return out;
}

/** Runs the jobs on the nodes; resolves with their results in job order. */
function runJobs(jobs: readonly ScanJob[], cluster: ClusterScan, signal: AbortSignal | undefined): Promise<ScanResult[]> {
  return Promise.all(jobs.map((job) => cluster.run<ScanResult>('scanRowGroups', [job], signal)));
}

/**
 * The merged groups of a group-by the nodes computed, as a source of one batch: the stages after
 * the group-by (a sort, a limit) then run here on it.
 */
export function groupByOnNodes(source: Source, shared: { location: string; parts: number }, recipe: Recipe, spec: GroupBySpec, cluster: ClusterScan): Source {
  return {
    name: `${source.name} (read and grouped on ${cluster.nodes} node${cluster.nodes === 1 ? '' : 's'})`,
    schema: spec.output,
    async *batches(options): AsyncGenerator<Batch> {
      const results = await runJobs(scanJobs(shared, recipe, cluster.nodes), cluster, options.signal);
      const state = new GroupState(spec);
      for (const r of results) if (r.partial) state.merge(r.partial);
      const out = state.finish();
      if (out.rows > 0) yield out;
    },
  };
}

/** The rows of a table whose every stage the nodes rebuilt, counted where they were read. */
export async function countOnNodes(shared: { location: string; parts: number }, recipe: Recipe, cluster: ClusterScan, signal: AbortSignal | undefined): Promise<number> {
  const results = await runJobs(scanJobs(shared, recipe, cluster.nodes), cluster, signal);
  return results.reduce((n, r) => n + r.rows, 0);
}
