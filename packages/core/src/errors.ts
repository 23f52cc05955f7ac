/**
 * Error types thrown by Tandem. Every one carries a stable `code` so callers can branch on it
 * without parsing messages.
 */

/** Base class of Tandem's own errors. */
export class TandemError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Bad input at the call that made it: names the argument and what was expected.
 *
 * @example
 * ```ts
 * try { await Tandem.create({ workers: 0 }); }
 * catch (e) { if (e instanceof ArgumentError) console.log(e.argument); } // 'workers'
 * ```
 */
export class ArgumentError extends TandemError {
  readonly argument: string;
  constructor(argument: string, expected: string, got?: unknown) {
    const shown = arguments.length >= 3 ? `; got ${describe(got)}` : '';
    super('ERR_TANDEM_INVALID_ARGUMENT', `${argument}: expected ${expected}${shown}`);
    this.argument = argument;
  }
}

/** A task module that does not exist, or an export that is not a function. */
export class TaskModuleError extends TandemError {}

/** The worker running a task died (crash, exit, out of memory) on every attempt the task was allowed. */
export class WorkerCrashedError extends TandemError {
  readonly attempts: number;
  constructor(message: string, attempts: number, cause?: unknown) {
    super('ERR_TANDEM_WORKER_CRASHED', message, { cause });
    this.attempts = attempts;
  }
}

/** A task ran longer than its `timeoutMs` on every attempt it was allowed. */
export class TaskTimeoutError extends TandemError {
  readonly attempts: number;
  readonly timeoutMs: number;
  constructor(message: string, attempts: number, timeoutMs: number) {
    super('ERR_TANDEM_TASK_TIMEOUT', message);
    this.attempts = attempts;
    this.timeoutMs = timeoutMs;
  }
}

/** The queue already holds `maxQueue` tasks and the pool was told to refuse rather than wait. */
export class QueueFullError extends TandemError {
  constructor(maxQueue: number) {
    super('ERR_TANDEM_QUEUE_FULL', `the task queue is full (maxQueue = ${maxQueue}); wait for tasks to finish, raise maxQueue, or use onQueueFull: 'wait'`);
  }
}

/** The pool was closed or destroyed before the task could run. */
export class PoolClosedError extends TandemError {
  constructor(message: string, code = 'ERR_TANDEM_POOL_CLOSED') {
    super(code, message);
  }
}

/** Workers could not be started (e.g. the bootstrap module failed to load). */
export class WorkerStartError extends TandemError {
  constructor(message: string, cause?: unknown) {
    super('ERR_TANDEM_WORKER_START', message, { cause });
  }
}

/** A backend can't run here; `fix` says what would make it run (e.g. "run `npm run setup:gpu`"). */
export class BackendUnavailableError extends TandemError {
  readonly backend: string;
  readonly fix: string | undefined;
  constructor(backend: string, reason: string, fix?: string, cause?: unknown) {
    super('ERR_TANDEM_BACKEND_UNAVAILABLE', `${backend}: ${reason}${fix ? ` — ${fix}` : ''}`, { cause });
    this.backend = backend;
    this.fix = fix;
  }
}

/** The device was lost (destroyed, reset, driver crash) before or while running this work. */
export class DeviceLostError extends TandemError {
  readonly device: string;
  constructor(device: string, reason: string) {
    super('ERR_TANDEM_DEVICE_LOST', `device ${device} was lost: ${reason}`);
    this.device = device;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return `an object (${value.constructor?.name ?? 'null prototype'})`;
}

/** The shape in which an error crosses a thread or process boundary. */
export interface SerializedError {
  readonly __tandemError: true;
  /** Set when something other than an Error was thrown; it is rethrown as it was. */
  readonly thrown?: unknown;
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly props: Record<string, unknown>;
  readonly cause?: SerializedError | { value: unknown };
}

/**
 * Turns anything thrown into a structured-clone-safe record that keeps name, message, stack,
 * `code` and every other own property whose value can be cloned.
 */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    return { __tandemError: true, thrown: cloneableOrString(error), name: 'Error', message: String(error), props: {} };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === 'cause') continue;
    props[key] = cloneableOrString((error as unknown as Record<string, unknown>)[key]);
  }
  const out: { -readonly [K in keyof SerializedError]: SerializedError[K] } = {
    __tandemError: true,
    name: error.name,
    message: error.message,
    stack: error.stack,
    props,
  };
  if ('cause' in error && depth < 8) {
    const cause = error.cause;
    out.cause = cause instanceof Error ? serializeError(cause, depth + 1) : { value: cloneableOrString(cause) };
  }
  return out;
}

const knownErrors: Record<string, { prototype: Error }> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
  TandemError, ArgumentError, TaskModuleError, WorkerCrashedError, TaskTimeoutError, QueueFullError, PoolClosedError, WorkerStartError,
  BackendUnavailableError, DeviceLostError,
};

/**
 * Rebuilds an error from {@link serializeError}'s record, as the same class where it is a
 * built-in or one of Tandem's (so `instanceof` holds across the boundary), else as an Error.
 */
export function deserializeError(record: SerializedError): unknown {
  if ('thrown' in record) return record.thrown;
  const proto = Object.hasOwn(knownErrors, record.name) ? knownErrors[record.name]!.prototype : Error.prototype;
  const error = Object.create(proto) as Error;
  Object.defineProperty(error, 'message', { value: record.message, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(error, 'name', { value: record.name, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(error, 'stack', { value: record.stack ?? `${record.name}: ${record.message}`, writable: true, configurable: true, enumerable: false });
  Object.assign(error, record.props);
  if (record.cause) {
    const cause = '__tandemError' in record.cause ? deserializeError(record.cause) : record.cause.value;
    Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  }
  return error;
}

export function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === 'object' && value !== null && (value as { __tandemError?: unknown }).__tandemError === true;
}

function cloneableOrString(value: unknown): unknown {
  try {
    structuredClone(value);
    return value;
  } catch {
    return `[uncloneable ${typeof value === 'object' && value ? value.constructor?.name ?? 'object' : typeof value}]`;
  }
}
