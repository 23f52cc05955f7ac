/**
 * The replicas of one training run: one leased worker of the session's pool per replica slot
 * (the tensorflow replica excepted: see below), and what happens when one fails. A failed replica (its worker crashed, its device was lost, its step threw) is
 * replaced by a fresh worker given a live replica's exact state, or dropped; either way the
 * steps the run was in the middle of are run again by the replicas left, so no step is lost
 * and none is applied twice.
 */
import { extname } from 'node:path';
import { availableParallelism } from 'node:os';
import { ArgumentError, TaskTimeoutError, WorkerPool, type WorkerLease } from '@tandem/core';
import { abort, aliveSlots, lagging, markAlive, markDead, resetBarrier, stepClock } from './control.ts';
import type { ReplicaBuffers, ReplicaDescription, ReplicaEngine, ReplicaInit, ReplicaState, Segment, SegmentResult } from './types.ts';

// Built, this module is .js and so is its sibling; from source both are .ts.
const REPLICA = new URL(`./replica${extname(import.meta.url)}`, import.meta.url);
const RUN = { retries: 0 } as const;

/**
 * tfjs-node's native addon loads in one thread per process, for the process's life: a second
 * worker thread that imports it fails. So the tensorflow replica's worker is the process's own,
 * outside any session (a session's workers come and go), kept for the next train() (idle
 * workers don't keep the process alive), and one run at a time may use it.
 */
let tensorflowPool: WorkerPool | undefined;
let tensorflowInUse = false;

function takeTensorflowPool(): WorkerPool {
  if (tensorflowInUse) {
    throw new ArgumentError('replicas', "no 'tensorflow' replica while another train() in this process has it (tfjs-node loads in one thread per process)", 'tensorflow');
  }
  tensorflowInUse = true;
  tensorflowPool ??= new WorkerPool({ workers: 1 });
  return tensorflowPool;
}

export interface SlotFailure {
  slot: number;
  error: unknown;
}

/** How {@link ReplicaSet.runRecovering} deals with failures, and what it tells its caller. */
export interface RecoveryPolicy {
  /** A replica that lets the step clock stand still this long is ended (as hung). */
  stepTimeoutMs?: number;
  /** Throws if the run must stop whatever happened (an abort): called after every run of steps. */
  check(): void;
  /** Called before each run of steps from `from` (e.g. to split the first step's batch). */
  before(from: number): void;
  /** Steps from `completed` on will be run again: forget what they recorded. */
  rerun(completed: number): void;
  /** Whether to try replacing the replica of a failed slot (else it is dropped). */
  replace(slot: number): boolean;
  /** A slot failed at step `completed` and was replaced or dropped. */
  failed(failure: SlotFailure, completed: number, action: 'replaced' | 'dropped'): void;
  /** What to throw when the replicas stopped early with nothing failed: the run was aborted. */
  stopped(): unknown;
  /** What to throw when the replicas stopped at a step that was not finite. */
  nonFinite(at: NonNullable<SegmentResult['nonFinite']>): unknown;
}

/** Workers of the session's pool not lent out: what a run can lease. */
export function freeWorkers(pool: WorkerPool): number {
  return pool.stats().workers.filter((w) => !w.leased && w.state !== 'retired').length;
}

export class ReplicaSet {
  private readonly lease: WorkerLease | undefined;
  /** Per slot: its worker in the lease, or -1 for the tensorflow replica's own pool. */
  private readonly leased: number[];
  private readonly tensorflow: WorkerPool | undefined;
  private buffers: ReplicaBuffers | undefined;

  /**
   * Leases one of `pool`'s workers per replica (not the tensorflow one's). Throws ArgumentError
   * naming `replicas` when the pool has fewer free workers.
   */
  constructor(readonly engines: ReplicaEngine[], private readonly initFor: (slot: number) => ReplicaInit, pool: WorkerPool) {
    const needed = engines.filter((e) => e !== 'tensorflow').length;
    const free = freeWorkers(pool);
    if (needed > free) {
      throw new ArgumentError('replicas', `at most ${free} replica${free === 1 ? '' : 's'} besides a tensorflow one: one per free worker of the session (it has ${pool.size}, ${pool.size - free} lent out)`, engines);
    }
    const cpuReplicas = engines.filter((e) => e === 'wasm' || e === 'cpu').length;
    if (engines.includes('tensorflow') && process.env.TF_NUM_INTRAOP_THREADS === undefined) {
      // libtensorflow sizes its thread pool from the environment when it loads: give it the cores the other CPU replicas leave.
      process.env.TF_NUM_INTRAOP_THREADS = String(Math.max(1, availableParallelism() - cpuReplicas));
    }
    this.lease = needed > 0 ? pool.lease(needed) : undefined;
    let k = 0;
    this.leased = engines.map((e) => (e === 'tensorflow' ? -1 : k++));
    try {
      this.tensorflow = engines.includes('tensorflow') ? takeTensorflowPool() : undefined;
    } catch (error) {
      this.lease?.release();
      throw error;
    }
  }

  get slots(): number {
    return this.engines.length;
  }

  /** The session pool worker (slot index) a replica runs on; undefined for the tensorflow replica. */
  workerOf(slot: number): number | undefined {
    const k = this.leased[slot]!;
    return k < 0 ? undefined : this.lease!.slotOf(k);
  }

  call<T>(slot: number, name: string, args: unknown[] = []): Promise<T> {
    const k = this.leased[slot]!;
    return k < 0 ? this.tensorflow!.run<T>(REPLICA, name, args, RUN) : this.lease!.run<T>(k, REPLICA, name, args, RUN);
  }

  /** Builds every replica's model; any failure here is the model's or the engine's, and fatal. */
  async start(): Promise<ReplicaDescription[]> {
    await this.tensorflow?.ready();
    return Promise.all(this.engines.map((_, slot) => this.call<ReplicaDescription>(slot, 'init', [this.initFor(slot)])));
  }

  /** Builds slot's replica again on another engine (the planner moved it), before the run's buffers are attached. */
  async reassign(slot: number, engine: ReplicaEngine): Promise<ReplicaDescription> {
    if (this.leased[slot]! < 0 || engine === 'tensorflow') throw new Error('the tensorflow replica keeps its engine');
    this.engines[slot] = engine;
    // A fresh thread: the old engine (a GPU device) goes with the old one.
    await this.lease!.restart(this.leased[slot]!);
    return this.call<ReplicaDescription>(slot, 'init', [this.initFor(slot)]);
  }

  /** Attaches the shared buffers to every replica and makes them all `state`. */
  async attach(buffers: ReplicaBuffers, state: ReplicaState | undefined): Promise<void> {
    this.buffers = buffers;
    const source = state ?? (await this.call<ReplicaState>(0, 'exportState'));
    await Promise.all(this.engines.map(async (_, slot) => {
      await this.call(slot, 'attach', [buffers]);
      await this.call(slot, 'importState', [source]);
    }));
  }

  live(): number[] {
    return aliveSlots(this.buffers!.control);
  }

  /**
   * Runs `segment` on every live replica. If some fail, the others are stopped at the step being
   * computed; resolves with the first step not applied and the failures.
   */
  async runSegment(segment: Segment, stepTimeoutMs?: number): Promise<SegmentResult & { failures: SlotFailure[] }> {
    const control = this.buffers!.control;
    resetBarrier(control);
    const failures: SlotFailure[] = [];
    const results: SegmentResult[] = [];
    const hung = new Map<number, Error>();
    const watchdog = stepTimeoutMs === undefined ? undefined : this.watch(stepTimeoutMs, hung);
    try {
      await Promise.all(this.live().map((slot) =>
        this.call<SegmentResult>(slot, 'runSteps', [segment]).then(
          (r) => void results.push(r),
          (error: unknown) => {
            failures.push({ slot, error: hung.get(slot) ?? error });
            abort(control);
          })));
    } finally {
      clearInterval(watchdog);
    }
    // Every survivor stopped at the same step: they all saw the same step clock. Without a failure,
    // that is `to`, or an earlier step if the run was aborted.
    const done = results.map((r) => r.completed);
    const completed = done.length ? Math.min(...done) : segment.from;
    // Survivors decided alike on every step before `completed` (skips included): any one speaks for all.
    const first = results.find((r) => r.completed === completed);
    const skipped = first?.skipped.filter((s) => s.step < completed) ?? [];
    const nonFinite = first?.nonFinite;
    if (failures.length === 0) return { completed, skipped, ...(nonFinite ? { nonFinite } : {}), failures };
    if (done.some((c) => c !== completed)) throw new Error(`replicas stopped at different steps (${done.join(', ')}): the barrier is broken`);
    for (const f of failures) markDead(control, f.slot);
    return { completed, skipped, failures };
  }

  /**
   * While a run of steps is going: if the step clock stands still for `timeoutMs`, the replicas
   * the others wait for at the barrier are hung (an endless loop, a deadlocked driver): their
   * workers are ended, which fails their run, so they are replaced or dropped like a crash.
   */
  private watch(timeoutMs: number, hung: Map<number, Error>): NodeJS.Timeout {
    const control = this.buffers!.control;
    let clock = stepClock(control);
    let since = performance.now();
    return setInterval(() => {
      const now = stepClock(control);
      if (now !== clock) {
        [clock, since] = [now, performance.now()];
        return;
      }
      if (performance.now() - since < timeoutMs) return;
      for (const slot of lagging(control)) {
        if (hung.has(slot)) continue;
        hung.set(slot, new TaskTimeoutError(`replica ${slot} (${this.engines[slot]}) made no step in ${timeoutMs} ms; its worker was ended`, 1, timeoutMs));
        void this.end(slot);
      }
    }, Math.max(10, Math.min(1000, timeoutMs / 4)));
  }

  /** Ends a slot's worker now: its running task rejects; a leased worker is replaced in its pool slot. */
  private async end(slot: number): Promise<void> {
    const k = this.leased[slot]!;
    if (k >= 0) {
      await this.lease!.restart(k).catch(() => undefined);
      return;
    }
    if (this.tensorflow === tensorflowPool) tensorflowPool = undefined; // its thread is gone; the addon stays loaded in the process, though
    await this.tensorflow!.destroy();
  }

  /**
   * Ends every replica's worker now (an abort): whatever they were running rejects. Not the
   * tensorflow replica's, which could not be started again in this process: the abort flag
   * stops it at its next step.
   */
  async endAll(): Promise<void> {
    await Promise.all(this.engines.map((_, slot) => (this.leased[slot]! < 0 ? undefined : this.end(slot))));
  }

  /**
   * Runs `segment` to its end whatever fails on the way: after a failure, each failed slot is
   * replaced (while `replace` allows) or dropped, `before(from)` prepares the re-run of the steps
   * from the first one not applied, and the live replicas run them. Rejects, with the failure's
   * error, only when no replica is left, and with `policy.nonFinite` at a step that was not
   * finite. Resolves with the steps skipped as not finite.
   */
  async runRecovering(segment: Segment, policy: RecoveryPolicy): Promise<SegmentResult['skipped']> {
    const skipped: SegmentResult['skipped'] = [];
    for (let from = segment.from; from < segment.to;) {
      policy.before(from);
      const run = await this.runSegment({ ...segment, from }, policy.stepTimeoutMs);
      policy.check();
      skipped.push(...run.skipped);
      if (run.failures.length === 0) {
        if (run.nonFinite) throw policy.nonFinite(run.nonFinite);
        if (run.completed < segment.to) throw policy.stopped();
        return skipped;
      }
      policy.rerun(run.completed);
      if (this.live().length === 0) throw run.failures[0]!.error;
      for (const f of run.failures) {
        const replace = policy.replace(f.slot);
        const replaced = replace && (await this.replace(f.slot));
        policy.failed(f, run.completed, replaced ? 'replaced' : 'dropped');
      }
      from = run.completed;
    }
    return skipped;
  }

  /** Starts a fresh replica in a failed slot with a live replica's state; false if that fails too. */
  async replace(slot: number): Promise<boolean> {
    const donor = this.live()[0];
    if (donor === undefined) return false;
    try {
      const state = await this.call<ReplicaState>(donor, 'exportState');
      // A fresh thread: the failed one may hold a lost GPU device, which its engine would reuse.
      if (this.leased[slot]! >= 0) await this.lease!.restart(this.leased[slot]!);
      await this.call(slot, 'init', [this.initFor(slot)]);
      await this.call(slot, 'attach', [this.buffers!]);
      await this.call(slot, 'importState', [state]);
      markAlive(this.buffers!.control, slot);
      return true;
    } catch {
      return false;
    }
  }

  /** Gives the leased workers back to the session (their module state is replaced by the next replica's init). */
  async destroy(): Promise<void> {
    this.lease?.release();
    if (this.tensorflow) tensorflowInUse = false;
  }
}
