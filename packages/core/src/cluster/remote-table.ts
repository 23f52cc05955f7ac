/**
 * A node's share of a table the client runs on the cluster (`data/nodes-scan.ts`): a session task
 * that reads the row groups it was given, rebuilds the table's stages from their recipe — kernels
 * and task modules loaded only from modules the node's `--allow` list lets it run — and sends back
 * its partial aggregates or its count. A local path must lie under an `--allow` directory too: a
 * job names data as it names code, and a node reads only what it was told it may.
 */
import { pathToFileURL } from 'node:url';
import { replay } from '../data/recipe.ts';
import type { ScanJob, ScanResult } from '../data/nodes-scan.ts';
import type { SessionTaskContext } from './session-task.ts';

/**
 * Reads `job.rowGroups` of `job.location`, applies `job.steps`, then groups and aggregates
 * (`job.groupBy`) or counts. Called by the node.
 *
 * @example
 * ```ts
 * // The client does this for each job of a shared table's groupBy:
 * await client.runSessionTask(REMOTE_TABLE_MODULE, 'scanRowGroups', [{ location, rowGroups: [0, 1], steps, groupBy }]);
 * ```
 */
export async function scanRowGroups(context: SessionTaskContext, job: ScanJob): Promise<ScanResult> {
  const location = /^https?:\/\//i.test(job.location) ? job.location : context.allowed(pathToFileURL(job.location).href);
  const source = await context.session.read(location, { format: 'parquet', rowGroups: job.rowGroups });
  const table = await replay(source, job.steps, (module) => context.allowed(module));
  const options = { signal: context.signal };
  if (job.groupBy) return table.partialGroups(job.groupBy.keys, job.groupBy.spec, options);
  return { rows: await table.count(options) };
}
