import type { Backend, BackendName } from '../backend.ts';
import { openRegisteredBackend, registeredBackends } from '../backend/registry.ts';
import { ArgumentError, BackendUnavailableError } from '../errors.ts';
import { splitRange } from '../kernel/builtins.ts';
import { kernelSpec } from '../kernel/registry.ts';
// Registers the user-kernel spec, which calls of td.map look up.
import '../kernel/user.ts';
import type { KernelCall, KernelSpec, Partial } from '../kernel/types.ts';
import type { WorkerPool } from '../pool/pool.ts';
import { Tensor } from '../tensor.ts';
import { observedRun } from './observed-run.ts';
import type { Recorder } from './recorder.ts';

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

/** Picks the backend for a call: the one named by `device` (an id or a backend name), else the first healthy one that supports it. */
export function pickBackend(backends: readonly Backend[], kernel: string, device: string | undefined): Backend {
  const able = backends.filter((b) => b.health() === 'ok' && b.supports(kernel));
  if (device !== undefined) {
    const chosen = able.find((b) => b.device.id === device || b.name === device);
    if (!chosen) {
      throw new ArgumentError('options.device', `a healthy device of this session that runs kernel '${kernel}' (${able.map((b) => b.device.id).join(', ') || 'none'})`, device);
    }
    return chosen;
  }
  const first = able[0];
  if (!first) throw new BackendUnavailableError(kernel, `no healthy backend in this session runs kernel '${kernel}'`, `open a session with a backend that has it (${backends.map((b) => b.name).join(', ') || 'none open'})`);
  return first;
}

/** What the cost model and the trace call a kernel: user kernels by their own name, `user:<name>`. */
export function kernelKey(call: KernelCall): string {
  return call.user ? `user:${call.user.name}` : call.kernel;
}

/** The registered spec of the call's kernel (built-in, user, or one a backend registered). */
export function specFor(call: KernelCall): KernelSpec {
  return kernelSpec(call.kernel);
}

/**
 * Runs a call on one backend in `parts` ranges (1: the whole index space) and merges the
 * per-range results into the output. Tensor inputs still being computed are awaited first.
 * With a recorder, what the backend reports of the run is recorded for the trace.
 */
export async function runCall(backend: Backend, call: KernelCall, parts = 1, recorder?: Recorder): Promise<Tensor> {
  for (const arg of call.args) if (arg instanceof Tensor) await arg.values();
  const spec = specFor(call);
  const extent = spec.extent(call);
  const ranges = parts <= 1 ? [{ start: 0, end: extent }] : splitRange(extent, parts, spec.align?.(call) ?? 1);
  const partials: (Partial | undefined)[] = await Promise.all(ranges.map((r) => observedRun(backend, call, parts <= 1 ? undefined : r, recorder, kernelKey(call))));
  spec.merge?.(call, ranges, partials);
  return call.output;
}
