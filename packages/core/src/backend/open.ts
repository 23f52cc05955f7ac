import { ArgumentError } from '../errors.ts';
import type { WorkerPool } from '../pool/pool.ts';
import type { Backend, BackendName } from './contract.ts';
import { openRegisteredBackend, registeredBackends } from './registry.ts';

/** A backend the session asked for but could not open, and why. */
export interface UnavailableBackend {
  readonly name: BackendName;
  readonly reason: string;
  readonly fix: string | undefined;
}

/**
 * Opens the session's backends from the registry. Named ones must open (or the session fails,
 * saying why); with none named, every registered backend that works here is opened, in priority
 * order, and the others are reported, not fatal.
 */
export async function openBackends(names: readonly BackendName[] | undefined, pool: WorkerPool): Promise<{ backends: Backend[]; unavailable: UnavailableBackend[] }> {
  if (names !== undefined) {
    if (!Array.isArray(names)) throw new ArgumentError('backends', 'an array of registered backend names (empty: workers only)', names);
    for (const [i, n] of names.entries()) {
      if (typeof n !== 'string' || n === '') throw new ArgumentError(`backends[${i}]`, `the name of a registered backend (${registeredBackends().join(', ') || 'none registered'})`, n);
    }
  }
  const wanted = names ?? registeredBackends();
  const backends: Backend[] = [];
  const unavailable: UnavailableBackend[] = [];
  for (const name of wanted) {
    try {
      backends.push(await openRegisteredBackend(name, { pool }));
    } catch (error) {
      if (names !== undefined) {
        await Promise.all(backends.map((b) => b.dispose().catch(() => undefined)));
        throw error;
      }
      const e = error as Error & { fix?: string };
      unavailable.push({ name, reason: e.message, fix: e.fix });
    }
  }
  return { backends, unavailable };
}
