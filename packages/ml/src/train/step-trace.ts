/**
 * What the replicas' step times tell the session, read from shared memory after each run of
 * steps (no message per step): each replica's compute per step goes to the cost model (so the
 * next run of this model is balanced from its first step) and, with its wait at the barrier and
 * its all-reduce, to the session's trace and explain().
 */
import { trainingKernel } from '@tandem/core/internal/planner/training';
import type { SessionInternals } from '@tandem/core/internal/session/internals';
import type { TrainingRun } from '@tandem/core/internal/trace/types';
import type { ReplicaBuffers } from './types.ts';

/** The trace's process for training: one track per replica. */
export const TRAINING_TRACK = 'training';

export class StepTrace {
  constructor(
    private readonly session: SessionInternals,
    private readonly buffers: ReplicaBuffers,
    private readonly run: TrainingRun,
    private readonly signature: string,
    private readonly engines: readonly string[],
    private readonly devices: readonly string[],
  ) {}

  /** Forgets steps `from` onwards (of a new epoch, or to be run again). */
  clear(from = 0): void {
    this.buffers.stepTimes.fill(0, from * this.run.replicas.length * 4);
  }

  /** Records steps [from, to) of epoch `epoch` (of `steps` each), as the replicas timed them. */
  record(epoch: number, steps: number, from: number, to: number): void {
    const { stepTimes, stepCount } = this.buffers;
    const slots = this.run.replicas.length;
    // The replicas' clock is the epoch (timeOrigin + now()); the recorder's is this thread's now().
    const origin = performance.timeOrigin;
    const { costs, recorder } = this.session;
    for (let k = from; k < to; k++) {
      for (let s = 0; s < slots; s++) {
        const at = (k * slots + s) * 4;
        const [t0, t1, t2, t3] = [stepTimes[at]!, stepTimes[at + 1]!, stepTimes[at + 2]!, stepTimes[at + 3]!];
        if (!(t3 > 0)) continue;
        const count = stepCount[k * slots + s]!;
        const r = this.run.replicas[s]!;
        r.steps++;
        r.examples += count;
        r.computeMs += t1 - t0;
        r.waitMs += t2 - t1;
        r.allreduceMs += t3 - t2;
        if (count > 0) costs.recordKernel(trainingKernel(this.signature, this.engines[s]!), this.devices[s]!, count, t1 - t0);
        const lane = `replica ${s} · ${r.engine} on ${r.device}`;
        const args = { epoch, step: (epoch - 1) * steps + k + 1, examples: count, slot: s };
        recorder.activity(TRAINING_TRACK, lane, 'compute', `step ${args.step}: ${count} examples`, t0 - origin, t1 - origin, args);
        recorder.activity(TRAINING_TRACK, lane, 'wait', 'wait at barrier', t1 - origin, t2 - origin, args);
        recorder.activity(TRAINING_TRACK, lane, 'allreduce', 'all-reduce + optimizer', t2 - origin, t3 - origin, args);
      }
    }
    this.session.costsChanged();
  }
}
