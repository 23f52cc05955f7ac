/**
 * The shared control block of a training run: the step barrier the replicas meet at, which
 * replicas are alive, and each step's split of the global batch.
 *
 * Replicas loop over steps themselves and meet here, instead of taking one message per step from
 * the main thread: a barrier on shared memory costs microseconds, a round trip through the main
 * thread a fraction of a millisecond plus the wait for its event loop. The last replica to arrive
 * at a step does the step's bookkeeping (throughput estimate, next step's split) before releasing
 * the others, so there is exactly one writer of that state and every replica reads the same split.
 */
import { splitProportional } from './split.ts';

const ARRIVED = 0;
/** Barriers completed since the run began: the step clock the main thread's onStep watches. */
const GEN = 1;
const ABORT = 2;
const HEADER = 4;
/** After alive[slots] and counts[slots]: per slot, the step clock at which it last arrived, plus one. */
const ARRIVALS = (slots: number) => HEADER + 2 * slots;

/** Node 20 has Atomics.waitAsync (V8); TypeScript's lib declares it only from es2024. */
interface AtomicsWithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeout?: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

export type Balance = 'throughput' | 'equal';

/** Views of the control block; plain data, so it crosses to worker threads (shared, not copied). */
export interface Control {
  readonly slots: number;
  /** [ARRIVED, GEN, ABORT, -, alive[slots], counts[slots], arrivals[slots]] */
  readonly ints: Int32Array;
  /** [throughput[slots] (examples/ms, 0 = unmeasured), stepMs[slots]] */
  readonly floats: Float64Array;
  readonly balance: Balance;
}

export function createControl(slots: number, balance: Balance): Control {
  const control: Control = {
    slots,
    ints: new Int32Array(new SharedArrayBuffer((HEADER + 3 * slots) * 4)),
    floats: new Float64Array(new SharedArrayBuffer(2 * slots * 8)),
    balance,
  };
  for (let s = 0; s < slots; s++) control.ints[HEADER + s] = 1;
  return control;
}

/**
 * Starts a slot's throughput estimate (examples/ms) at what the planner predicts, so the first
 * step is split as a settled run would split it; the replicas' own measurements take over from there.
 */
export function seedThroughput(c: Control, slot: number, examplesPerMs: number): void {
  if (examplesPerMs > 0 && Number.isFinite(examplesPerMs)) c.floats[slot] = examplesPerMs;
}

export const isAlive = (c: Control, slot: number): boolean => Atomics.load(c.ints, HEADER + slot) === 1;
export const aliveSlots = (c: Control): number[] => Array.from({ length: c.slots }, (_, s) => s).filter((s) => isAlive(c, s));
export const markDead = (c: Control, slot: number): void => void Atomics.store(c.ints, HEADER + slot, 0);
export const markAlive = (c: Control, slot: number): void => void Atomics.store(c.ints, HEADER + slot, 1);

/** This step's share of `slot`, and where it starts within the global batch. */
export function shareOf(c: Control, slot: number): { count: number; offset: number } {
  let offset = 0;
  for (let s = 0; s < slot; s++) offset += Atomics.load(c.ints, HEADER + c.slots + s);
  return { count: Atomics.load(c.ints, HEADER + c.slots + slot), offset };
}

/** Splits a batch of `size` over the live replicas by measured throughput (unmeasured ones get the mean). */
export function planShares(c: Control, size: number): void {
  const alive = aliveSlots(c);
  const measured = alive.map((s) => c.floats[s]!).filter((t) => t > 0);
  const mean = measured.length ? measured.reduce((a, b) => a + b, 0) / measured.length : 1;
  const weights = alive.map((s) => (c.balance === 'equal' ? 1 : c.floats[s]! > 0 ? c.floats[s]! : mean));
  const counts = splitProportional(size, weights);
  for (let s = 0; s < c.slots; s++) Atomics.store(c.ints, HEADER + c.slots + s, 0);
  alive.forEach((s, k) => Atomics.store(c.ints, HEADER + c.slots + s, counts[k]!));
}

function updateThroughput(c: Control): void {
  for (const s of aliveSlots(c)) {
    const count = Atomics.load(c.ints, HEADER + c.slots + s);
    const ms = c.floats[c.slots + s]!;
    if (count === 0 || !(ms > 0)) continue;
    const rate = count / ms;
    // Smoothed, so one slow step (a GC pause) doesn't swing the next split.
    c.floats[s] = c.floats[s]! > 0 ? 0.7 * c.floats[s]! + 0.3 * rate : rate;
  }
}

/** Clears the barrier and the abort flag for a new run of steps (no replica may be running). */
export function resetBarrier(c: Control): void {
  Atomics.store(c.ints, ARRIVED, 0);
  Atomics.store(c.ints, ABORT, 0);
}

export const stepClock = (c: Control): number => Atomics.load(c.ints, GEN);

/** Tells every replica waiting at the barrier to stop: a replica failed and will never arrive. */
export function abort(c: Control): void {
  Atomics.store(c.ints, ABORT, 1);
  Atomics.notify(c.ints, GEN);
}

/** Live slots that have not arrived at the current step's barrier (the ones the others wait for). */
export function lagging(c: Control): number[] {
  const gen = Atomics.load(c.ints, GEN);
  return aliveSlots(c).filter((s) => Atomics.load(c.ints, ARRIVALS(c.slots) + s) !== gen + 1);
}

/** Wakes whoever waits on the step clock (the main thread's watcher, when it stops). */
export function wake(c: Control): void {
  Atomics.notify(c.ints, GEN);
}

/** Waits (asynchronously) until the step clock moves past `seen` or `ms` pass; returns the clock. */
export async function waitForStep(c: Control, seen: number, ms: number): Promise<number> {
  const result = (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(c.ints, GEN, seen, ms);
  if (result.async) await result.value;
  return stepClock(c);
}

/**
 * Arrives at the current step's barrier having spent `stepMs` on this step, and blocks until every
 * live replica has. The last to arrive updates the throughput estimate and splits the next step
 * (of `nextSize` examples). Returns false if the run was aborted before the step completed.
 */
export function arriveAndWait(c: Control, slot: number, stepMs: number, nextSize: number): boolean {
  c.floats[c.slots + slot] = stepMs;
  const gen = Atomics.load(c.ints, GEN);
  Atomics.store(c.ints, ARRIVALS(c.slots) + slot, gen + 1);
  const alive = aliveSlots(c).length;
  if (Atomics.add(c.ints, ARRIVED, 1) + 1 === alive) {
    updateThroughput(c);
    planShares(c, nextSize);
    Atomics.store(c.ints, ARRIVED, 0);
    Atomics.add(c.ints, GEN, 1);
    Atomics.notify(c.ints, GEN);
    return true;
  }
  while (Atomics.load(c.ints, GEN) === gen) {
    // A completed step counts even if an abort came after it: everyone saw the same clock.
    if (Atomics.load(c.ints, ABORT) === 1) return Atomics.load(c.ints, GEN) !== gen;
    Atomics.wait(c.ints, GEN, gen, 100);
  }
  return true;
}
