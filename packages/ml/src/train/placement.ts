/**
 * Where a training run's replicas go, decided by the session's planner: the engines asked for
 * (devices.ts), less those 'auto' should not use, then each replica's share of the batch from
 * the learned cost of a step of this model on its engine and device.
 */
import {
  modelSignature, planTraining, unfitForTraining, type TrainingDevice, type TrainingPlan,
} from '@tandem/core/internal/planner/training';
import type { SessionInternals } from '@tandem/core/internal/session/internals';
import { deviceOf, resolveReplicas } from './devices.ts';
import { freeWorkers, type ReplicaSet } from './replica-set.ts';
import type { ReplicaDescription, ReplicaEngine } from './types.ts';

export interface Excluded {
  readonly engine: string;
  readonly device: string;
  readonly reason: string;
}

/** The replicas to start: one engine and device per slot, and what 'auto' left out before starting. */
export interface Request {
  readonly engines: ReplicaEngine[];
  readonly devices: TrainingDevice[];
  readonly auto: boolean;
  readonly excluded: Excluded[];
}

/** Resolves `replicas` on the session, leaving `reserve` of its free workers unleased; under 'auto' a device unfit whatever the model (a software GPU) gives its worker to a CPU replica. */
export function requestReplicas(option: unknown, backend: 'wasm' | 'cpu', session: SessionInternals, reserve = 0, argument = 'replicas'): Request {
  const { engines, devices, auto } = resolveReplicas(option, backend, { workers: Math.max(0, freeWorkers(session.pool) - reserve), devices: session.devices() }, argument);
  const excluded: Excluded[] = [];
  if (auto) {
    for (let s = engines.length - 1; s >= 0; s--) {
      const reason = unfitForTraining(devices[s]!);
      if (!reason) continue;
      excluded.unshift({ engine: engines[s]!, device: devices[s]!.id, reason });
      if (engines.includes('tensorflow')) {
        // The tensorflow replica already uses every core: no CPU replica beside it.
        engines.splice(s, 1);
        devices.splice(s, 1);
      } else {
        engines[s] = backend;
        devices[s] = deviceOf(backend, []);
      }
    }
  }
  return { engines, devices, auto, excluded };
}

export interface Placement {
  readonly signature: string;
  readonly plan: TrainingPlan;
  /** Slots the plan left out that could not become a CPU replica: they take no share. */
  readonly idle: number[];
}

/**
 * Plans the started replicas: shares from learned costs and, under 'auto', devices predicted to
 * slow the step moved to the CPU engine (their replica built again) — or left idle beside a
 * tensorflow replica. `described[slot]` is updated for a moved replica.
 */
export async function placeReplicas(request: Request, set: ReplicaSet, described: ReplicaDescription[], backend: 'wasm' | 'cpu', batchSize: number, session: SessionInternals): Promise<Placement> {
  const signature = modelSignature(described[0]!.inputShape, described[0]!.weightShapes);
  const candidates = () => request.engines.map((engine, s) => ({ engine, device: request.devices[s]! }));
  let plan = planTraining({ costs: session.costs, signature, batchSize, candidates: candidates(), auto: request.auto });
  const idle: number[] = [];
  if (plan.excluded.length > 0) {
    for (const e of plan.excluded) {
      request.excluded.push({ engine: e.engine, device: e.device, reason: e.reason });
      const s = e.candidate;
      if (request.devices[s]!.kind !== 'cpu' && !request.engines.includes('tensorflow')) {
        described[s] = await set.reassign(s, backend);
        request.devices[s] = deviceOf(backend, []);
      } else {
        idle.push(s);
      }
    }
    const kept = candidates().map((c, s) => ({ c, s })).filter(({ s }) => !idle.includes(s));
    const replanned = planTraining({ costs: session.costs, signature, batchSize, candidates: kept.map(({ c }) => c), auto: false });
    plan = { replicas: replanned.replicas.map((r) => ({ ...r, candidate: kept[r.candidate]!.s })), excluded: plan.excluded };
  }
  return { signature, plan, idle };
}
