/**
 * One sweep trial on a cluster node: a cluster session task (`@tandem/ml/remote-trial`), run in
 * the node's main thread with the node's session, whose workers hold the trial's replica. The
 * sweep on the client keeps the ASHA bookkeeping: at each rung the trial asks it whether to go
 * on, and waits for the answer before training further, so a stopped trial trains no epoch past
 * its rung — the same as a local trial.
 *
 * A node runs this only when `@tandem/ml` is on its `--allow` list, and loads the trial's model
 * only when the model's file is under that list too.
 */
import type { SessionTaskContext } from '@tandem/core/internal/cluster/session-task';
import { train, type EpochRecord, type TrainData } from '../train/index.ts';
import type { OptimizerSpec, ReplicaEngine } from '../train/types.ts';

/** What the client sends for one trial (encoded by the cluster: typed arrays travel as blobs). */
export interface RemoteTrialSpec {
  /** The model module's file URL (resolved on the client, checked against the node's --allow list). */
  readonly model: string;
  readonly data: TrainData;
  readonly config: Record<string, unknown>;
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerSpec;
  readonly seed: number;
  readonly engine: ReplicaEngine;
  readonly metric: 'valAccuracy' | 'loss';
  /** Epochs after which the trial asks whether it continues (ASHA rungs; empty for random search). */
  readonly rungs: readonly number[];
}

/** What the trial sends back: its epochs, and an error if it failed (kept with the epochs it trained). */
export interface RemoteTrialResult {
  readonly status: 'completed' | 'stopped' | 'failed';
  readonly history: EpochRecord[];
  readonly node: string;
  readonly error?: unknown;
}

/** A rung question: the epoch and its metric (as text when not finite: questions travel as JSON). */
export interface RungQuestion {
  readonly epoch: number;
  readonly metric: number | string;
}

class StopTrial extends Error {}

/** A number as JSON keeps it (NaN and ±Infinity as text, which JSON would turn into null). */
export const metricToWire = (x: number): number | string => (Number.isFinite(x) ? x : String(x));
export const metricFromWire = (x: number | string): number => Number(x);

/**
 * Trains one trial on the node's session. Called by the node as a session task.
 *
 * @example
 * ```ts
 * // On the client, sweep() submits it; by hand:
 * await client.runSessionTask('@tandem/ml/remote-trial', 'runTrial', [spec], { onAsk: () => true });
 * ```
 */
export async function runTrial(context: SessionTaskContext, spec: RemoteTrialSpec): Promise<RemoteTrialResult> {
  // Refused here (not under --allow) fails the call, like an unknown task module would.
  const model = new URL(context.allowed(spec.model));
  const history: EpochRecord[] = [];
  try {
    await train({
      session: context.session, model, data: spec.data, config: spec.config, epochs: spec.epochs, batchSize: spec.batchSize,
      replicas: [spec.engine], optimizer: spec.optimizer, seed: spec.seed, signal: context.signal,
      onEpoch: async (record) => {
        history.push(record);
        if (record.epoch >= spec.epochs || !spec.rungs.includes(record.epoch)) return;
        const go = await context.ask({ epoch: record.epoch, metric: metricToWire(record[spec.metric]) } satisfies RungQuestion);
        if (go !== true) throw new StopTrial();
      },
    });
    return { status: 'completed', history, node: context.node };
  } catch (error) {
    if (error instanceof StopTrial) return { status: 'stopped', history, node: context.node };
    // The caller's cancel (an aborted sweep) rejects; any other failure is the trial's result.
    if (context.signal.aborted) throw error;
    return { status: 'failed', history, node: context.node, error };
  }
}
