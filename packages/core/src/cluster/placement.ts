/**
 * Where a call of a cluster session runs when the session has workers of its own: on the cluster
 * (its jobs go through Redis, and any node, this one included, takes them), or on this machine's
 * workers alone, when moving the arguments would cost more than computing them. The costs are the
 * measured ones: the cluster link's transfers (`link.ts`) and what this export's tasks took here.
 */

export interface PlacementInput {
  /** Tasks in the call. */
  readonly tasks: number;
  /** Bytes of tensors, typed arrays and buffers in the call's arguments (all tasks). */
  readonly argBytes: number;
  /** This machine's workers. */
  readonly localWorkers: number;
  /** Workers of the other live nodes. */
  readonly remoteWorkers: number;
  /** Predicted ms for all the call's tasks on one worker (from earlier runs), if known. */
  readonly computeMs: number | undefined;
  /** Predicted ms to store and fetch `argBytes` through the cluster, if measured. */
  readonly transferMs: number | undefined;
  /** A job's fixed cost in Redis round trips (add, take, complete, the completion event), ms. */
  readonly latencyMs: number;
}

export interface Placement {
  readonly where: 'cluster' | 'local';
  /** One line for explain(). */
  readonly why: string;
  /** Predicted wall ms each way, when both could be predicted. */
  readonly localMs?: number;
  readonly clusterMs?: number;
}

/**
 * Compares the call's predicted wall time on the local workers with the cluster's: every worker
 * there (local included) computing, after the arguments went up and came down. Without a
 * measurement of either side, the call goes to the cluster, which spreads it by pulling.
 *
 * @example
 * ```ts
 * placeCall({ tasks: 8, argBytes: 512e6, localWorkers: 2, remoteWorkers: 2, computeMs: 40, transferMs: 900, latencyMs: 1 }).where; // 'local'
 * ```
 */
export function placeCall(p: PlacementInput): Placement {
  if (p.localWorkers === 0) return { where: 'cluster', why: 'no workers here' };
  if (p.remoteWorkers === 0) return { where: 'local', why: 'no other node is live' };
  if (p.computeMs === undefined || p.transferMs === undefined) {
    return { where: 'cluster', why: p.computeMs === undefined ? 'no run time measured yet for this task' : 'cluster link not measured' };
  }
  const parallel = (workers: number) => Math.min(workers, p.tasks);
  const localMs = p.computeMs / parallel(p.localWorkers);
  const clusterMs = p.latencyMs + p.transferMs + p.computeMs / parallel(p.localWorkers + p.remoteWorkers);
  const where = localMs <= clusterMs ? 'local' : 'cluster';
  const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
  return { where, localMs, clusterMs, why: `predicted ${fmt(localMs)} ms here vs ${fmt(clusterMs)} ms over the cluster (${fmt(p.transferMs)} ms moving ${(p.argBytes / 1e6).toFixed(1)} MB)` };
}
