import { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import * as Comlink from 'comlink';
import {
  ArgumentError,
  PoolClosedError,
  QueueFullError,
  TaskTimeoutError,
  WorkerCrashedError,
  WorkerStartError,
  deserializeError,
  type SerializedError,
} from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { watchAbort } from './abort-fanout.ts';
import type { WorkerLease } from './lease.ts';
import { resolveTaskModule, type ModuleSpecifier } from './module-ref.ts';
import { checkTaskOptions, resolvePoolOptions, type PoolOptions, type ResolvedPoolOptions, type TaskOptions } from './options.ts';
import type { BatchReply, BatchRequest } from './protocol.ts';
import { DurationHistogram, type PoolStats, type WorkerStats } from './stats.ts';
import { TaskQueue, type Queued } from './task-queue.ts';
import { decodeValue, encodeValue, writeBack, type WireMode } from './wire.ts';
import { WorkerHandle, describeExit, type WorkerExit } from './worker-handle.ts';

/** Progress of everything submitted to a pool. */
export interface ProgressEvent {
  readonly done: number;
  readonly total: number;
}

/** A task as the pool tracks it. Settles exactly once: `state` guards every path. */
export interface Task extends Queued {
  readonly id: number;
  readonly href: string;
  readonly exportName: string;
  /** Key of the function's run-time estimate. */
  readonly fnKey: string;
  readonly args: readonly unknown[];
  readonly tensors: readonly Tensor[];
  readonly options: TaskOptions;
  readonly retries: number;
  /** Runs alone in its message: its timeout must start with it, or its transfers can't be resent. */
  readonly solo: boolean;
  /** Its worker crashed in a batch with no known culprit: run it alone until it completes. */
  suspect: boolean;
  attempts: number;
  state: 'waiting' | 'queued' | 'running' | 'settled';
  readonly submittedAt: number;
  slot: Slot | undefined;
  readonly promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  onSettle: ((task: Task, ok: boolean, value: unknown) => void) | undefined;
  /** Stops watching the task's signal; set while it watches one. */
  unwatchAbort: (() => void) | undefined;
  /** The leased slot it must run on; undefined for a task of general scheduling. */
  readonly pin: Slot | undefined;
}

interface Batch {
  readonly tasks: Task[];
  readonly sentAt: number;
  finished: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface Slot {
  readonly index: number;
  handle: WorkerHandle | undefined;
  state: 'starting' | 'idle' | 'busy' | 'retired';
  batch: Batch | undefined;
  tasks: number;
  busyMs: number;
  busySince: number;
  restarts: number;
  startFailures: number;
  /** Has had a worker ready at least once. */
  started: boolean;
  /** Lent out by {@link WorkerPool.lease}: it runs only tasks pinned to it, from `pinned`. */
  leased: boolean;
  pinned: Task[];
  /** Called when its next worker is ready (or with the error when the slot retires). */
  readyWaiters: Array<(error?: Error) => void>;
}

/** `recycle`: a lease asked for a fresh worker; like a crash, but not counted as one. */
type KillReason = { kind: 'timeout' | 'abort'; task: Task } | { kind: 'shutdown' } | { kind: 'recycle' };

const START_ATTEMPTS = 3;
/** Batch size for a function whose run time is not yet known. */
const UNKNOWN_FN_BATCH = 8;

/**
 * A fault-tolerant pool of worker threads or processes, driven over Comlink.
 *
 * Tasks queued close together travel to a worker in one message, sized from each function's
 * measured run time. A worker that dies is replaced and its task retried elsewhere within the
 * task's retry budget; every task settles exactly once.
 *
 * @example
 * ```ts
 * const pool = new WorkerPool({ workers: 2 });
 * await pool.ready();
 * const sum = await pool.run(new URL('./tasks.ts', import.meta.url), 'add', [1, 2]);
 * await pool.close();
 * ```
 */
export class WorkerPool extends EventEmitter {
  readonly options: ResolvedPoolOptions;
  private readonly queue = new TaskQueue<Task>();
  private readonly waiting: Task[] = [];
  private readonly slots: Slot[] = [];
  private readonly fnAvgMs = new Map<string, number>();
  private readonly mode: WireMode;
  private readonly startedAt = performance.now();
  private readonly waitHist = new DurationHistogram();
  private readonly runHist = new DurationHistogram();
  private readonly counts = { submitted: 0, completed: 0, failed: 0, aborted: 0, retries: 0, crashes: 0, timeouts: 0, batches: 0 };
  private readonly initial: { promise: Promise<void>; resolve(): void; reject(error: unknown): void };
  private nextId = 0;
  private pumpScheduled = false;
  private closing = false;
  private destroyed = false;
  private broken: Error | undefined;
  private closed: Promise<void> | undefined;
  private drainWaiters: Array<() => void> = [];
  private readonly pumpNow = (): void => this.pump();

  constructor(options: PoolOptions = {}) {
    super();
    this.options = resolvePoolOptions(options);
    this.mode = this.options.workerKind === 'process' ? 'copy' : 'shared';
    for (let index = 0; index < this.options.workers; index++) {
      this.slots.push({
        index, handle: undefined, state: 'starting', batch: undefined, tasks: 0, busyMs: 0, busySince: 0, restarts: 0, startFailures: 0, started: false,
        leased: false, pinned: [], readyWaiters: [],
      });
    }
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const ready = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // ready() reports a failure; until someone asks, it must not become an unhandled rejection.
    ready.catch(() => undefined);
    this.initial = { promise: ready, resolve, reject };
    for (const slot of this.slots) this.startSlot(slot);
  }

  /** Resolves once every worker has started; rejects with `WorkerStartError` if they can't. */
  ready(): Promise<void> {
    return this.initial.promise;
  }

  /** Number of worker slots. */
  get size(): number {
    return this.slots.length;
  }

  /**
   * Worker slots still in service (not retired after failing to start too often). Cheap, unlike
   * {@link WorkerPool.stats}: backends ask it before every placement.
   *
   * @example
   * ```ts
   * if (pool.liveWorkers === 0) console.log('no worker left');
   * ```
   */
  get liveWorkers(): number {
    let live = 0;
    for (const s of this.slots) if (s.state !== 'retired') live++;
    return live;
  }

  /**
   * Runs `exportName` of the task module in a worker with `args` spread as its arguments.
   * Bad input rejects the returned promise with an error naming the argument.
   */
  run<T = unknown>(module: ModuleSpecifier, exportName: string, args: readonly unknown[] = [], options: TaskOptions = {}): Promise<T> {
    try {
      const task = this.createTask(module, exportName, args, options, 'args');
      if (options.signal?.aborted) return Promise.reject(options.signal.reason);
      this.admit(task, this.options.onQueueFull === 'wait');
      return task.promise as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Lower-level submit used by the bulk APIs: throws on bad input; admission always waits for
   * queue room. `onSettle` is called once, synchronously, when the task settles.
   */
  submit(module: ModuleSpecifier, exportName: string, args: readonly unknown[], options: TaskOptions, argName: string,
    onSettle?: (task: Task, ok: boolean, value: unknown) => void): Task {
    const task = this.createTask(module, exportName, args, options, argName);
    task.onSettle = onSettle;
    this.admit(task, true);
    return task;
  }

  /**
   * Lends `workers` of the pool's workers to the caller: they leave general scheduling (a batch
   * they are running finishes first) and run only the lease's tasks, each on the worker it names,
   * until `release()`. Workers that crash are replaced in their slot and stay leased. Throws
   * `ArgumentError` when fewer workers are free to lend, `PoolClosedError` once closing.
   *
   * @example
   * ```ts
   * const lease = pool.lease(2);
   * try {
   *   await Promise.all([0, 1].map((k) => lease.run(k, new URL('./replica.ts', import.meta.url), 'init', [k])));
   * } finally {
   *   lease.release();
   * }
   * ```
   */
  lease(workers: number): WorkerLease {
    if (this.destroyed || this.closing) throw new PoolClosedError('the pool is closing and lends no workers');
    if (this.broken) throw this.broken;
    const free = this.slots.filter((s) => !s.leased && s.state !== 'retired');
    if (!Number.isSafeInteger(workers) || workers < 1 || workers > free.length) {
      throw new ArgumentError('workers', `an integer from 1 to ${free.length} (the pool's workers not already lent)`, workers);
    }
    // Idle workers first: a busy one joins the lease only when its batch ends.
    const order = { idle: 0, starting: 1, busy: 2, retired: 3 } as const;
    const taken = [...free].sort((a, b) => order[a.state] - order[b.state] || a.index - b.index).slice(0, workers).sort((a, b) => a.index - b.index);
    for (const slot of taken) slot.leased = true;
    let released = false;
    const slotAt = (k: number): Slot => {
      if (released) throw new PoolClosedError('the lease was released; its workers are back in the pool');
      const slot = taken[k];
      if (!slot || !Number.isInteger(k)) throw new ArgumentError('worker', `a leased worker's index, 0 to ${taken.length - 1}`, k);
      return slot;
    };
    return {
      size: taken.length,
      slotOf: (k) => slotAt(k).index,
      run: <T>(k: number, module: ModuleSpecifier, exportName: string, args: readonly unknown[] = [], options: TaskOptions = {}) => {
        try {
          const task = this.createTask(module, exportName, args, options, 'args', slotAt(k));
          if (options.signal?.aborted) return Promise.reject(options.signal.reason);
          this.admit(task, true);
          return task.promise as Promise<T>;
        } catch (error) {
          return Promise.reject(error);
        }
      },
      restart: (k) => {
        let slot: Slot;
        try {
          slot = slotAt(k);
        } catch (error) {
          return Promise.reject(error);
        }
        const ready = new Promise<void>((resolve, reject) => slot.readyWaiters.push((error) => (error ? reject(error) : resolve())));
        if (slot.state === 'retired') this.rejectReadyWaiters(slot, this.broken ?? new WorkerStartError('this worker slot could not start a worker'));
        else slot.handle?.kill({ kind: 'recycle' } satisfies KillReason);
        return ready;
      },
      release: () => {
        if (released) return;
        released = true;
        for (const slot of taken) {
          slot.leased = false;
          for (const task of slot.pinned.splice(0)) {
            task.queued = false;
            this.settle(task, false, new PoolClosedError('the lease was released before this task ran'));
          }
        }
        this.schedulePump();
      },
    };
  }

  /** Settles a task as aborted with `reason`: leaves the queue, or its worker is terminated and replaced. */
  abort(task: Task, reason: unknown): void {
    if (task.state === 'settled') return;
    if (task.state === 'waiting') {
      const i = this.waiting.indexOf(task);
      if (i >= 0) this.waiting.splice(i, 1);
    } else if (task.state === 'queued' && task.pin) {
      const i = task.pin.pinned.indexOf(task);
      if (i >= 0) task.pin.pinned.splice(i, 1);
    } else if (task.state === 'queued') {
      this.queue.remove(task);
      this.admitWaiting();
    } else if (task.state === 'running') {
      task.slot?.handle?.kill({ kind: 'abort', task } satisfies KillReason);
    }
    this.counts.aborted++;
    this.settle(task, false, reason);
  }

  /** Stops taking tasks, lets queued and running ones finish, then ends the workers. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      this.closed = this.whenDrained().then(() => this.shutdown());
    }
    return this.closed;
  }

  /** Rejects everything pending or running with `PoolClosedError` (code ERR_TANDEM_POOL_DESTROYED) and ends the workers. */
  async destroy(): Promise<void> {
    if (this.destroyed) return this.closed ?? Promise.resolve();
    this.destroyed = true;
    this.closing = true;
    const error = () => new PoolClosedError('the pool was destroyed before this task finished', 'ERR_TANDEM_POOL_DESTROYED');
    for (const task of this.waiting.splice(0)) this.settle(task, false, error());
    for (const task of this.queue.drain()) this.settle(task, false, error());
    for (const slot of this.slots) for (const task of slot.pinned.splice(0)) this.settle(task, false, error());
    for (const slot of this.slots) {
      const batch = slot.batch;
      if (!batch) continue;
      batch.finished = true;
      clearTimeout(batch.timer);
      for (const task of batch.tasks) this.settle(task, false, error());
    }
    this.closed = this.shutdown();
    this.resolveDrained();
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** A snapshot of counts, wait and run time percentiles, and per-worker utilisation. */
  stats(): PoolStats {
    const now = performance.now();
    const uptimeMs = now - this.startedAt;
    let running = 0;
    const workers: WorkerStats[] = this.slots.map((slot) => {
      const busyMs = slot.busyMs + (slot.state === 'busy' ? now - slot.busySince : 0);
      if (slot.batch) for (const task of slot.batch.tasks) if (task.state === 'running') running++;
      return {
        index: slot.index,
        kind: this.options.workerKind,
        state: slot.state,
        pid: slot.handle?.pid,
        threadId: slot.handle?.threadId,
        tasks: slot.tasks,
        busyMs,
        utilisation: uptimeMs > 0 ? busyMs / uptimeMs : 0,
        restarts: slot.restarts,
        leased: slot.leased,
      };
    });
    return {
      uptimeMs,
      tasks: { ...this.counts, queued: this.queue.size + this.waiting.length + this.slots.reduce((n, s) => n + s.pinned.length, 0), running },
      waitMs: this.waitHist.snapshot(),
      runMs: this.runHist.snapshot(),
      workers,
    };
  }

  private createTask(module: ModuleSpecifier, exportName: string, args: readonly unknown[], options: TaskOptions, argName: string, pin?: Slot): Task {
    if (this.destroyed) throw new PoolClosedError('the pool was destroyed; create a new one', 'ERR_TANDEM_POOL_DESTROYED');
    if (this.closing) throw new PoolClosedError('the pool is closing and takes no new tasks');
    if (this.broken) throw this.broken;
    const href = resolveTaskModule(module);
    if (typeof exportName !== 'string' || exportName.length === 0) {
      throw new ArgumentError('exportName', 'the name of a function the task module exports', exportName);
    }
    if (!Array.isArray(args)) throw new ArgumentError(argName, 'an array of arguments for the task function', args);
    const bad = checkTaskOptions(options);
    if (bad) throw bad;
    if (options.transfer?.length && this.mode === 'copy') {
      throw new ArgumentError('options.transfer', "transfers between threads only; process workers copy their arguments (workerKind: 'process')");
    }
    const tensors: Tensor[] = [];
    const encoded = encodeValue(args, argName, this.mode, tensors) as unknown[];
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const id = this.nextId++;
    return {
      id,
      seq: id,
      priority: options.priority ?? 0,
      queued: false,
      href,
      exportName,
      fnKey: `${href}#${exportName}`,
      args: encoded,
      tensors,
      options,
      retries: options.retries ?? 0,
      solo: options.timeoutMs !== undefined || (options.transfer?.length ?? 0) > 0,
      suspect: false,
      attempts: 0,
      state: 'waiting',
      submittedAt: performance.now(),
      slot: undefined,
      promise,
      resolve,
      reject,
      onSettle: undefined,
      unwatchAbort: undefined,
      pin,
    };
  }

  private admit(task: Task, waitForRoom: boolean): void {
    this.counts.submitted++;
    const signal = task.options.signal;
    if (signal) task.unwatchAbort = watchAbort(signal, () => this.abort(task, signal.reason));
    if (task.pin) {
      this.enqueue(task);
      return;
    }
    if (this.queue.size >= this.options.maxQueue || this.waiting.length > 0) {
      if (!waitForRoom) {
        this.counts.submitted--;
        this.settle(task, false, new QueueFullError(this.options.maxQueue), false);
        return;
      }
      this.waiting.push(task);
      return;
    }
    this.enqueue(task);
  }

  private enqueue(task: Task): void {
    task.state = 'queued';
    if (task.pin) {
      // A leased worker's tasks run one at a time, in order: each may depend on the one before.
      task.queued = true;
      task.pin.pinned.push(task);
    } else {
      this.queue.push(task);
    }
    this.schedulePump();
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.queue.size < this.options.maxQueue) this.enqueue(this.waiting.shift()!);
  }

  private schedulePump(): void {
    // Deferred so that tasks submitted in the same turn travel together.
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(this.pumpNow);
  }

  private pump(): void {
    this.pumpScheduled = false;
    for (const slot of this.slots) {
      if (slot.leased) {
        if (slot.state === 'idle' && slot.pinned.length > 0) {
          const task = slot.pinned.shift()!;
          task.queued = false;
          this.send(slot, [task]);
        }
        continue;
      }
      if (slot.state === 'idle' && this.queue.size > 0) this.send(slot, this.takeBatch());
    }
    this.admitWaiting();
  }

  private takeBatch(): Task[] {
    const first = this.queue.shift()!;
    const tasks = [first];
    if (first.solo || first.suspect) return tasks;
    const active = this.slots.filter((s) => s.state !== 'retired' && !s.leased).length || 1;
    // Leave a share for the other workers, and keep a batch near the target run time.
    const share = Math.ceil((this.queue.size + 1) / active);
    const limit = Math.min(this.options.maxBatch, share, this.batchLimitFor(first.fnKey));
    while (tasks.length < limit) {
      const next = this.queue.peek();
      if (!next || next.solo || next.suspect) break;
      tasks.push(this.queue.shift()!);
    }
    return tasks;
  }

  private batchLimitFor(fnKey: string): number {
    const avg = this.fnAvgMs.get(fnKey);
    if (avg === undefined) return UNKNOWN_FN_BATCH;
    return Math.max(1, Math.floor(this.options.batchTargetMs / Math.max(avg, 1e-4)));
  }

  private send(slot: Slot, tasks: Task[]): void {
    const handle = slot.handle!;
    const now = performance.now();
    const batch: Batch = { tasks, sentAt: now, finished: false, timer: undefined };
    slot.state = 'busy';
    slot.batch = batch;
    slot.busySince = now;
    handle.setKeepAlive(true);
    this.counts.batches++;
    const modules: string[] = [];
    const wire = tasks.map((task) => {
      task.state = 'running';
      task.slot = slot;
      let index = modules.indexOf(task.href);
      if (index < 0) index = modules.push(task.href) - 1;
      return [index, task.exportName, task.args] as const;
    });
    const request: BatchRequest = { modules, tasks: wire, copyBack: this.mode === 'copy' };
    const first = tasks[0]!;
    const transfer = first.options.transfer;
    const call = transfer?.length ? handle.api.runBatch(Comlink.transfer(request, transfer)) : handle.api.runBatch(request);
    if (first.options.timeoutMs !== undefined) {
      batch.timer = setTimeout(() => handle.kill({ kind: 'timeout', task: first } satisfies KillReason), first.options.timeoutMs);
    }
    call.then(
      (reply) => this.onReply(slot, handle, batch, reply),
      (error: unknown) => this.onSendFailed(slot, handle, batch, error),
    );
  }

  private finishBatch(slot: Slot, handle: WorkerHandle, batch: Batch): boolean {
    if (batch.finished) return false;
    batch.finished = true;
    clearTimeout(batch.timer);
    if (slot.batch === batch) {
      slot.batch = undefined;
      slot.busyMs += performance.now() - slot.busySince;
      if (slot.handle === handle && handle.isAlive) {
        slot.state = 'idle';
        handle.setKeepAlive(false);
      }
    }
    // A batch whose tasks were all settled early (aborted) ends only now, with its worker's exit.
    if (this.drainWaiters.length > 0 && this.isDrained()) this.resolveDrained();
    return true;
  }

  private onReply(slot: Slot, handle: WorkerHandle, batch: Batch, reply: BatchReply): void {
    if (!this.finishBatch(slot, handle, batch)) return;
    slot.tasks += batch.tasks.length;
    const failed = reply.failed.length > 0 ? new Set(reply.failed) : undefined;
    const { tasks } = batch;
    const arrivedAt = performance.now();
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i]!;
      const runMs = reply.times[2 * i + 1]!;
      if (task.options.onRun) reportRun(task, slot.index, batch.sentAt, arrivedAt, reply.times[2 * i]!, runMs);
      this.runHist.record(runMs);
      this.waitHist.record(batch.sentAt - task.submittedAt + reply.times[2 * i]!);
      const avg = this.fnAvgMs.get(task.fnKey);
      this.fnAvgMs.set(task.fnKey, avg === undefined ? runMs : 0.8 * avg + 0.2 * runMs);
      if (task.state === 'settled') continue;
      if (failed?.has(i)) {
        this.onTaskError(task, deserializeError(reply.values[i] as SerializedError));
      } else {
        if (reply.tensorData) writeBack(task.tensors, reply.tensorData[i]!);
        task.suspect = false;
        this.settle(task, true, decodeValue(reply.values[i], []));
      }
    }
    this.schedulePump();
  }

  /** The message never reached a live worker (e.g. a value that could not be cloned). */
  private onSendFailed(slot: Slot, handle: WorkerHandle, batch: Batch, error: unknown): void {
    if (!this.finishBatch(slot, handle, batch)) return;
    if (batch.tasks.length === 1) {
      this.settle(batch.tasks[0]!, false, error);
    } else {
      // Only one task may be at fault: send each alone so only it fails.
      for (const task of batch.tasks) this.requeue(task, true);
    }
    this.schedulePump();
  }

  private onTaskError(task: Task, error: unknown): void {
    task.attempts++;
    const { retryOn } = task.options;
    let wanted = retryOn === true;
    if (typeof retryOn === 'function') {
      try {
        wanted = Boolean(retryOn(error, task.attempts));
      } catch {
        wanted = false;
      }
    }
    if (wanted && task.attempts <= task.retries) {
      this.counts.retries++;
      this.requeue(task, false);
      return;
    }
    if (task.attempts > 1 && typeof error === 'object' && error !== null) {
      Object.assign(error, { attempts: task.attempts });
    }
    this.settle(task, false, error);
  }

  private requeue(task: Task, suspect: boolean): void {
    if (task.state === 'settled') return;
    task.slot = undefined;
    task.suspect = task.suspect || suspect;
    this.enqueue(task);
  }

  private startSlot(slot: Slot): void {
    const handle = new WorkerHandle({ kind: this.options.workerKind, resourceLimits: this.options.resourceLimits, env: this.options.env });
    slot.handle = handle;
    slot.state = 'starting';
    void handle.exited.then((exit) => this.onExit(slot, handle, exit));
    // If the worker dies first, this call never answers; onExit takes over.
    handle.api.ping().then(() => {
      if (slot.handle !== handle || !handle.isAlive || slot.state !== 'starting') return;
      slot.state = 'idle';
      slot.startFailures = 0;
      handle.setKeepAlive(false);
      for (const resolve of slot.readyWaiters.splice(0)) resolve();
      if (!slot.started) {
        slot.started = true;
        if (this.slots.every((s) => s.started)) this.initial.resolve();
      }
      this.schedulePump();
    }, () => undefined);
  }

  private onExit(slot: Slot, handle: WorkerHandle, exit: WorkerExit): void {
    try {
      if (slot.handle === handle) this.handleExit(slot, handle, exit);
    } finally {
      handle.cursor.dispose();
    }
  }

  private handleExit(slot: Slot, handle: WorkerHandle, exit: WorkerExit): void {
    const wasStarting = slot.state === 'starting';
    slot.handle = undefined;
    const reason = handle.killReason as KillReason | undefined;
    if (reason?.kind === 'timeout') this.counts.timeouts++;
    else if (reason === undefined) this.counts.crashes++;
    if (reason?.kind === 'recycle' && wasStarting) slot.startFailures--; // not the worker's fault
    const batch = slot.batch;
    if (batch) {
      this.finishBatch(slot, handle, batch);
      this.failBatch(batch, handle, exit, reason);
    }
    if (reason?.kind === 'shutdown' || this.destroyed) {
      slot.state = 'retired';
      this.rejectReadyWaiters(slot, new PoolClosedError('the pool was closed before a fresh worker started'));
      return;
    }
    if (wasStarting && ++slot.startFailures >= START_ATTEMPTS) {
      slot.state = 'retired';
      this.onSlotRetired(slot, exit);
      return;
    }
    slot.restarts++;
    this.startSlot(slot);
    this.schedulePump();
  }

  /**
   * A worker died with a batch in flight. The culprit is the task it was running (known from a
   * kill, a batch of one, or a thread's cursor); it is charged an attempt. Everything else in the
   * batch is requeued uncharged, and run alone if the culprit could not be told.
   */
  private failBatch(batch: Batch, handle: WorkerHandle, exit: WorkerExit, reason: KillReason | undefined): void {
    if (reason?.kind === 'shutdown') return;
    let culprit: Task | undefined = reason && 'task' in reason ? reason.task : undefined;
    if (!culprit && batch.tasks.length === 1) culprit = batch.tasks[0];
    if (!culprit) culprit = batch.tasks[handle.cursor.read()];
    for (const task of batch.tasks) {
      if (task.state === 'settled') continue;
      if (task.options.transfer?.length) {
        this.settle(task, false, new WorkerCrashedError(
          `task ${label(task)} was lost with its worker, which ${describeExit(exit)}; its transferred buffers went with it, so it was not retried`,
          task.attempts + 1, exit.error));
        continue;
      }
      if (task !== culprit) {
        this.requeue(task, culprit === undefined);
        continue;
      }
      task.attempts++;
      if (task.attempts <= task.retries) {
        this.counts.retries++;
        this.requeue(task, true);
      } else if (reason?.kind === 'timeout') {
        const ms = task.options.timeoutMs!;
        this.settle(task, false, new TaskTimeoutError(
          `task ${label(task)} timed out after ${ms} ms on each of ${task.attempts} attempt${task.attempts === 1 ? '' : 's'}`, task.attempts, ms));
      } else {
        this.settle(task, false, new WorkerCrashedError(
          `task ${label(task)} failed after ${task.attempts} attempt${task.attempts === 1 ? '' : 's'}: its worker ${describeExit(exit)}`,
          task.attempts, exit.error));
      }
    }
  }

  private onSlotRetired(slot: Slot, exit: WorkerExit): void {
    const error = new WorkerStartError(
      `a ${this.options.workerKind} worker failed to start ${START_ATTEMPTS} times in a row; the last one ${describeExit(exit)}`, exit.error);
    if (!slot.started) this.initial.reject(error);
    this.rejectReadyWaiters(slot, error);
    for (const task of slot.pinned.splice(0)) this.settle(task, false, error);
    if (this.slots.some((s) => s.state !== 'retired')) return;
    this.broken = error;
    for (const task of this.waiting.splice(0)) this.settle(task, false, this.broken);
    for (const task of this.queue.drain()) this.settle(task, false, this.broken);
  }

  private rejectReadyWaiters(slot: Slot, error: Error): void {
    for (const reject of slot.readyWaiters.splice(0)) reject(error);
  }

  private settle(task: Task, ok: boolean, value: unknown, count = true): void {
    if (task.state === 'settled') return;
    task.state = 'settled';
    task.slot = undefined;
    task.unwatchAbort?.();
    if (count) {
      if (ok) this.counts.completed++;
      else this.counts.failed++;
    }
    if (ok) task.resolve(value);
    else task.reject(value);
    task.onSettle?.(task, ok, value);
    if (this.listenerCount('progress') > 0) {
      const done = this.counts.completed + this.counts.failed;
      this.emit('progress', { done, total: this.counts.submitted } satisfies ProgressEvent);
    }
    if (this.drainWaiters.length > 0 && this.isDrained()) this.resolveDrained();
  }

  private isDrained(): boolean {
    return this.queue.size === 0 && this.waiting.length === 0 && this.slots.every((s) => !s.batch && s.pinned.length === 0);
  }

  private whenDrained(): Promise<void> {
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private resolveDrained(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private async shutdown(): Promise<void> {
    const exits: Promise<WorkerExit>[] = [];
    for (const slot of this.slots) {
      const handle = slot.handle;
      if (!handle) continue;
      handle.kill({ kind: 'shutdown' } satisfies KillReason);
      exits.push(handle.exited);
    }
    await Promise.all(exits);
  }
}

/**
 * Tells a task's `onRun` where and when it ran. The worker timed it from its receipt of the batch;
 * the send time stands in for that receipt, and both ends are kept inside [sent, reply arrived],
 * so that one worker's runs, batch after batch, never overlap.
 */
function reportRun(task: Task, worker: number, sentAt: number, arrivedAt: number, offsetMs: number, runMs: number): void {
  const start = Math.min(sentAt + offsetMs, arrivedAt);
  const end = Math.min(start + runMs, arrivedAt);
  try {
    task.options.onRun!({ worker, start, end });
  } catch {
    // An observer's failure must not fail the task.
  }
}

function label(task: Task): string {
  return `'${task.exportName}' of ${basename(task.href)}`;
}
