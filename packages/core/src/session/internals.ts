/**
 * What Tandem's own packages (ml) need of a session beyond its public API: its pool, to lease
 * workers; its learned costs; its recorder, for explain() and trace(). Reached through
 * `@tandem/core/internal/session/internals`, so the user-facing class stays small.
 */
import { ArgumentError } from '../errors.ts';
import type { DeviceDescription } from '../backend/contract.ts';
import type { CostModel } from '../planner/cost-model.ts';
import type { WorkerPool } from '../pool/pool.ts';
import type { Recorder } from '../trace/recorder.ts';
import type { ClusterClient } from '../cluster/client.ts';
import type { IndexRange, KernelCall } from '../kernel/types.ts';

export interface SessionInternals {
  readonly pool: WorkerPool;
  readonly costs: CostModel;
  readonly recorder: Recorder;
  /** The devices the session drives (as `Tandem.devices()`). */
  devices(): DeviceDescription[];
  /** Learned costs changed outside the session's own graphs: save them when the session closes. */
  costsChanged(): void;
  /** The cluster this session submits to, if it joined one: where a sweep's trials go. */
  cluster(): ClusterClient | undefined;
  /** Computes one range of `call` on this machine's fastest device for it (a node's kernel slice). */
  runRange(call: KernelCall, range: IndexRange): Promise<string>;
}

const bySession = new WeakMap<object, SessionInternals>();

export function registerInternals(session: object, internals: SessionInternals): void {
  bySession.set(session, internals);
}

/** The internals of `session`; ArgumentError naming `argument` when it is not a Tandem session. */
export function sessionInternals(session: unknown, argument = 'session'): SessionInternals {
  const internals = typeof session === 'object' && session !== null ? bySession.get(session) : undefined;
  if (!internals) throw new ArgumentError(argument, 'a Tandem session (await Tandem.create())', session);
  return internals;
}
