import { fork, type ChildProcess } from 'node:child_process';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { ipcEndpoint, threadEndpoint } from '../worker/endpoint.ts';
import { deserializeError } from '../errors.ts';
import { createCursor, type CursorReader } from './cursor.ts';
import { START_DATA_ENV, isFatalMessage, type WorkerApi, type WorkerStartData } from './protocol.ts';

/** Threads share memory with the main thread; processes isolate crashes and native addons. */
export type WorkerKind = 'thread' | 'process';

/** How a worker ended. */
export interface WorkerExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** The uncaught error or out-of-memory error that ended it, when Node reported one. */
  readonly error?: unknown;
}

export interface SpawnOptions {
  readonly kind: WorkerKind;
  readonly resourceLimits?: ResourceLimits;
  /** Extra environment for process workers. */
  readonly env?: Record<string, string>;
}

const bootstrapUrl = new URL('../worker/bootstrap.mjs', import.meta.url);

/**
 * One live worker. `exited` settles exactly once, however the worker ends — Comlink alone would
 * leave calls to a dead worker pending forever, so the pool races every call against it.
 */
export class WorkerHandle {
  readonly kind: WorkerKind;
  readonly api: Comlink.Remote<WorkerApi>;
  readonly exited: Promise<WorkerExit>;
  /** Index of the batch task the worker is running; -1 between tasks. */
  readonly cursor: CursorReader;
  /** Set when the pool killed the worker on purpose, before the kill. */
  killReason: unknown = undefined;
  private readonly thread?: Worker;
  private readonly child?: ChildProcess;
  private alive = true;

  constructor(options: SpawnOptions) {
    this.kind = options.kind;
    let resolveExit!: (exit: WorkerExit) => void;
    this.exited = new Promise((resolve) => (resolveExit = resolve));
    let lastError: unknown;
    this.cursor = createCursor(options.kind);
    const data: WorkerStartData = { cursor: this.cursor.location };
    const finish = (code: number | null, signal: string | null) => {
      if (!this.alive) return;
      this.alive = false;
      resolveExit(lastError === undefined ? { code, signal } : { code, signal, error: lastError });
    };
    if (options.kind === 'thread') {
      this.thread = new Worker(bootstrapUrl, {
        workerData: data,
        ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      });
      this.thread.on('error', (error) => (lastError = error));
      this.thread.on('exit', (code) => finish(code, null));
      this.api = Comlink.wrap<WorkerApi>(threadEndpoint(this.thread));
    } else {
      const heapMb = options.resourceLimits?.maxOldGenerationSizeMb;
      this.child = fork(bootstrapUrl, [], {
        serialization: 'advanced',
        // Start clean: the parent's flags (a test runner's, say) are not the worker's business.
        execArgv: heapMb ? [`--max-old-space-size=${heapMb}`] : [],
        env: { ...process.env, ...options.env, [START_DATA_ENV]: JSON.stringify(data) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      this.child.on('error', (error) => {
        lastError = error;
        // A spawn failure emits 'error' without 'exit'.
        if (this.child?.pid === undefined) finish(null, null);
      });
      this.child.on('exit', (code, signal) => finish(code, signal));
      this.child.on('message', (message) => {
        if (isFatalMessage(message)) lastError = deserializeError(message.__tandemFatal);
      });
      this.api = Comlink.wrap<WorkerApi>(ipcEndpoint(this.child));
    }
  }

  get isAlive(): boolean {
    return this.alive;
  }

  get pid(): number | undefined {
    return this.child ? this.child.pid : process.pid;
  }

  get threadId(): number | undefined {
    return this.thread?.threadId;
  }

  /** Ends the worker now. `reason` tells the pool why, when the exit arrives. */
  kill(reason: unknown): void {
    if (!this.alive) return;
    this.killReason ??= reason;
    // Until its exit arrives the pool is waiting on it: an idle, unref'd process would otherwise
    // let the event loop empty with close() still pending (the script exits with code 13).
    this.setKeepAlive(true);
    if (this.thread) void this.thread.terminate();
    else this.child?.kill('SIGKILL');
  }

  /** A busy worker keeps the process alive; an idle one doesn't, so scripts can exit without close(). */
  setKeepAlive(keep: boolean): void {
    if (this.thread) {
      if (keep) this.thread.ref();
      else this.thread.unref();
    } else if (this.child) {
      const channel = this.child.channel as { ref?(): void; unref?(): void } | null | undefined;
      if (keep) {
        this.child.ref();
        channel?.ref?.();
      } else {
        this.child.unref();
        channel?.unref?.();
      }
    }
  }
}

/** A short description of how a worker ended, for error messages. */
export function describeExit(exit: WorkerExit): string {
  const error = exit.error as { message?: string; code?: string } | undefined;
  if (error?.code === 'ERR_WORKER_OUT_OF_MEMORY') return `ran out of memory (${error.message})`;
  if (error) return `threw outside any task: ${error.message ?? String(error)}`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}
