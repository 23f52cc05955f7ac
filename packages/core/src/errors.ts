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

/**
 * A data file that can't be read as what it claims to be: missing, truncated, corrupt, or a row
 * that doesn't parse. Names the file and, where known, the row (1-based, as an editor shows it)
 * and the column.
 *
 * @example
 * ```ts
 * try { await td.read('flights.csv').then((t) => t.toArrow()); }
 * catch (e) { if (e instanceof DataFormatError) console.log(e.file, e.row, e.column); }
 * ```
 */
export class DataFormatError extends TandemError {
  readonly file: string;
  readonly row: number | undefined;
  readonly column: string | undefined;
  constructor(file: string, problem: string, where: { row?: number; column?: string } = {}, cause?: unknown) {
    const at = [where.row !== undefined ? `row ${where.row}` : '', where.column !== undefined ? `column '${where.column}'` : ''].filter(Boolean).join(', ');
    super('ERR_TANDEM_DATA_FORMAT', `${file}${at ? ` (${at})` : ''}: ${problem}`, { cause });
    this.file = file;
    this.row = where.row;
    this.column = where.column;
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
  /** Constructor names from the error's own class up to Error, e.g. ['NotFound', 'HttpError', 'Error']. */
  readonly classes?: readonly string[];
  readonly props: Record<string, unknown>;
  readonly cause?: SerializedError | { value: unknown };
  /** An AggregateError's `errors`, each serialized the same way. */
  readonly errors?: ReadonlyArray<SerializedError | { value: unknown }>;
}

/** How deep causes and aggregated errors are followed: deeper ones arrive as their message. */
const MAX_DEPTH = 8;

/**
 * Turns anything thrown into a structured-clone-safe record that keeps name, message, stack,
 * `code`, every other own property whose value can be cloned, the cause, an AggregateError's
 * `errors`, and the names of the error's classes.
 */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    return { __tandemError: true, thrown: cloneableOrString(error), name: 'Error', message: String(error), props: {} };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === 'cause' || (key === 'errors' && error instanceof AggregateError)) continue;
    props[key] = cloneableOrString((error as unknown as Record<string, unknown>)[key]);
  }
  const out: { -readonly [K in keyof SerializedError]: SerializedError[K] } = {
    __tandemError: true,
    name: error.name,
    message: error.message,
    stack: error.stack,
    classes: classNames(error),
    props,
  };
  const nested = (value: unknown) => (value instanceof Error && depth < MAX_DEPTH ? serializeError(value, depth + 1) : { value: cloneableOrString(value) });
  if ('cause' in error) out.cause = nested(error.cause);
  if (error instanceof AggregateError && Array.isArray(error.errors)) out.errors = error.errors.map(nested);
  return out;
}

function classNames(error: Error): string[] {
  const names: string[] = [];
  for (let proto = Object.getPrototypeOf(error) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== '' && !names.includes(name)) names.push(name);
  }
  return names;
}

type ErrorClass = abstract new (...args: never[]) => Error;

const builtinErrors: Record<string, ErrorClass> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError,
  TandemError, ArgumentError, TaskModuleError, WorkerCrashedError, TaskTimeoutError, QueueFullError, PoolClosedError, WorkerStartError,
  BackendUnavailableError, DeviceLostError, DataFormatError,
};
const registeredErrors = new Map<string, ErrorClass>();

/**
 * Lets errors of a class of your own cross from workers as that class, so that `instanceof`
 * holds in the calling thread. Errors of unregistered classes arrive as their nearest registered
 * or built-in ancestor (a class extending TypeError as a TypeError, else an Error), with their
 * `name`, message, stack, `code` and other own cloneable properties kept. The class is matched by
 * its constructor's name; register it in the thread that calls `run` (workers need nothing).
 * The class's constructor is not called: the error is rebuilt on its prototype.
 *
 * @example
 * ```ts
 * export class QuotaError extends Error { override name = 'QuotaError'; }
 * registerErrorClass(QuotaError);
 * try { await td.run(tasks, 'charge', [user]); }
 * catch (e) { if (e instanceof QuotaError) console.log(e.message); }
 * ```
 */
export function registerErrorClass(errorClass: ErrorClass, name: string = errorClass?.name): void {
  if (typeof errorClass !== 'function' || !(errorClass.prototype instanceof Error)) {
    throw new ArgumentError('errorClass', 'a class that extends Error', errorClass);
  }
  if (typeof name !== 'string' || name === '') throw new ArgumentError('name', 'the non-empty name the class is known by', name);
  registeredErrors.set(name, errorClass);
}

function classFor(record: SerializedError): ErrorClass {
  for (const name of record.classes ?? [record.name]) {
    const found = registeredErrors.get(name) ?? (Object.hasOwn(builtinErrors, name) ? builtinErrors[name] : undefined);
    if (found) return found;
  }
  return Error;
}

/**
 * Rebuilds an error from {@link serializeError}'s record as the most specific class known here:
 * a class registered with {@link registerErrorClass}, one of Tandem's, a built-in (AggregateError
 * with its `errors`, DOMException with its name), else Error — so `instanceof` holds across the
 * boundary wherever the class is known.
 */
export function deserializeError(record: SerializedError): unknown {
  if ('thrown' in record) return record.thrown;
  const nested = (r: SerializedError | { value: unknown }) => ('__tandemError' in r ? deserializeError(r) : r.value);
  // DOMException keeps name and message in internal slots that its getters read: it must be constructed.
  const error = record.classes?.[0] === 'DOMException'
    ? new DOMException(record.message, record.name)
    : Object.create(classFor(record).prototype) as Error;
  const define = (key: string, value: unknown) =>
    Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: false });
  if (!(error instanceof DOMException)) {
    define('message', record.message);
    define('name', record.name);
  }
  define('stack', record.stack ?? `${record.name}: ${record.message}`);
  Object.assign(error, record.props);
  if (record.cause) define('cause', nested(record.cause));
  if (record.errors) define('errors', record.errors.map(nested));
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
