/**
 * Reports steps as the replicas complete them, from the step clock in the control block: the
 * replicas never wait for the main thread, and the main thread wakes once per step (or less, if
 * it is busy: it then reports every step it missed, in order).
 */
import { stepClock, wake, waitForStep, type Control } from './control.ts';

export interface StepWatch {
  /** Throws what the callback threw, if it did. */
  check(): void;
  /** Reports the steps completed so far and stops watching. */
  stop(): Promise<void>;
}

/** Calls `onStep(k)` for k = firstStep, firstStep + 1, ... as each step's barrier completes. */
export function watchSteps(control: Control, firstStep: number, onStep: (step: number) => void): StepWatch {
  let seen = stepClock(control);
  let next = firstStep;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  const report = (clock: number) => {
    for (; seen < clock; seen++, next++) {
      if (failure) continue;
      try {
        onStep(next);
      } catch (error) {
        failure = { error };
      }
    }
  };
  // A pending Atomics.waitAsync does not keep Node's event loop alive: between runs of steps, when
  // the replicas' workers are idle (and unref'd), a script would exit mid-training (code 13).
  const keepAlive = setInterval(() => {}, 1 << 30);
  const loop = (async () => {
    while (!stopped) report(await waitForStep(control, seen, 50));
  })().finally(() => clearInterval(keepAlive));
  return {
    check() {
      if (failure) throw failure.error;
    },
    async stop() {
      stopped = true;
      wake(control);
      await loop;
      report(stepClock(control));
      if (failure) throw failure.error;
    },
  };
}
