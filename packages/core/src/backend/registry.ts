/**
 * The backend registry, as tfjs's `registerBackend` does it: a backend package registers its
 * backends when imported, a user's file may register one of its own, and a session opens them by
 * name. Core names no backend and imports no backend package.
 */
import type { Backend } from './contract.ts';
import { ArgumentError, BackendUnavailableError } from '../errors.ts';
import type { WorkerPool } from '../pool/pool.ts';

/** What a backend may use of the session that opens it. */
export interface BackendContext {
  /** The session's worker pool (threads or processes): a CPU backend runs its kernels there. */
  readonly pool: WorkerPool;
}

/** A backend as registered: its name, how to make it, and where it ranks in a session. */
export interface BackendRegistration {
  /** The name sessions ask for (`Tandem.create({ backends: [name] })`); the backend's `name` must equal it. */
  readonly name: string;
  /** Makes the backend; the session then calls its `init()`. May be async. */
  create(context: BackendContext): Backend | Promise<Backend>;
  /** Rank among the backends a session opens by default: higher first, ties in registration order. Default 0. */
  readonly priority?: number;
  /** Longest `create` plus `init` may take before the backend counts as unavailable. Default 60 s. */
  readonly openTimeoutMs?: number;
}

interface Entry extends Required<BackendRegistration> {
  readonly order: number;
}

const DEFAULT_OPEN_TIMEOUT_MS = 60_000;
const entries = new Map<string, Entry>();
let registered = 0;

/**
 * Registers a backend under its name. Throws an {@link ArgumentError} for a name that is not a
 * non-empty string, a `create` that is not a function, or a name already registered.
 *
 * @example
 * ```ts
 * import { registerBackend } from '@tandem/core/backend';
 * registerBackend({ name: 'mine', create: async ({ pool }) => new MyBackend(pool) });
 * const td = await Tandem.create({ backends: ['cpu', 'mine'] });
 * ```
 */
export function registerBackend(registration: BackendRegistration): void {
  if (typeof registration !== 'object' || registration === null) throw new ArgumentError('registration', 'an object { name, create, priority? }', registration);
  const { name, create, priority = 0, openTimeoutMs = DEFAULT_OPEN_TIMEOUT_MS } = registration;
  if (typeof name !== 'string' || name.trim() === '') throw new ArgumentError('registration.name', 'a non-empty string naming the backend', name);
  if (typeof create !== 'function') throw new ArgumentError('registration.create', `a function (context) => Backend for backend '${name}'`, create);
  if (typeof priority !== 'number' || !Number.isFinite(priority)) throw new ArgumentError('registration.priority', `a finite number for backend '${name}'`, priority);
  if (typeof openTimeoutMs !== 'number' || !(openTimeoutMs > 0)) throw new ArgumentError('registration.openTimeoutMs', `a positive number of milliseconds for backend '${name}'`, openTimeoutMs);
  if (entries.has(name)) throw new ArgumentError('registration.name', `a name not yet registered: backend '${name}' is registered already`, name);
  entries.set(name, { name, create, priority, openTimeoutMs, order: registered++ });
}

/** Removes a registration (for tests and hot reloads); returns whether there was one. */
export function unregisterBackend(name: string): boolean {
  return entries.delete(name);
}

/** The registered backends' names, in the order a session opens them by default. */
export function registeredBackends(): string[] {
  return [...entries.values()].sort((a, b) => b.priority - a.priority || a.order - b.order).map((e) => e.name);
}

/**
 * Makes and initialises the backend registered as `name`, within its open timeout. Rejects with
 * a {@link BackendUnavailableError} naming the backend: not registered (listing those that are),
 * `create` or `init` threw or did not finish in time, or what `create` returned is not a backend.
 */
export async function openRegisteredBackend(name: string, context: BackendContext): Promise<Backend> {
  const entry = entries.get(name);
  if (!entry) {
    const known = registeredBackends();
    throw new BackendUnavailableError(name, `no backend named '${name}' is registered (registered: ${known.join(', ') || 'none'})`,
      "import '@tandem/backends' for Tandem's own, or registerBackend() yours before Tandem.create");
  }
  let made: Backend | undefined;
  const opening = (async () => {
    const backend = await entry.create(context);
    if (!isBackend(backend)) throw new BackendUnavailableError(name, 'create() did not return a backend (an object with init, run, supports, health, upload, transfers and dispose)');
    if (backend.name !== name) throw new BackendUnavailableError(name, `create() returned a backend named '${String(backend.name)}'`);
    made = backend;
    await backend.init();
    return backend;
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BackendUnavailableError(name, `did not open within ${entry.openTimeoutMs} ms (create and init)`)), entry.openTimeoutMs);
  });
  try {
    return await Promise.race([opening, timeout]);
  } catch (error) {
    // Whatever was made is disposed of once its opening settles, however late that is.
    void opening.then((b) => b.dispose(), () => made?.dispose()).catch(() => undefined);
    if (error instanceof BackendUnavailableError) throw error;
    throw new BackendUnavailableError(name, `failed to open: ${(error as Error)?.message ?? String(error)}`, (error as { fix?: string })?.fix, error);
  } finally {
    clearTimeout(timer);
  }
}

function isBackend(value: unknown): value is Backend {
  const b = value as Partial<Record<keyof Backend, unknown>> | null;
  return typeof b === 'object' && b !== null &&
    (['init', 'run', 'supports', 'health', 'upload', 'transfers', 'dispose'] as const).every((k) => typeof b[k] === 'function');
}
