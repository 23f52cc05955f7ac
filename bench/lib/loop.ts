/** Load generators for latency/throughput benches. */

export interface LoopResult {
  readonly tasks: number;
  readonly elapsedMs: number;
  readonly tasksPerSec: number;
  /** Per task, submit → resolve, in completion order. */
  readonly latenciesMs: Float64Array;
  /** Tasks whose result `verify` rejected. */
  readonly wrong: number;
}

export interface ClosedLoopOptions {
  readonly total: number;
  /** Tasks kept in flight: each completion submits the next. */
  readonly inFlight: number;
  /** Checks a result (cheap); false counts as wrong. */
  readonly verify?: (index: number, value: unknown) => boolean;
}

/**
 * A closed loop: `inFlight` tasks are submitted at once, and each completion submits the next
 * until `total` are done. Latency is measured per task from its submission to its resolution.
 * A rejected task rejects the whole run.
 */
export function closedLoop(submit: (index: number) => Promise<unknown>, options: ClosedLoopOptions): Promise<LoopResult> {
  const { total, inFlight, verify } = options;
  const latencies = new Float64Array(total);
  let issued = 0;
  let done = 0;
  let wrong = 0;
  return new Promise<LoopResult>((resolve, reject) => {
    let failed = false;
    const t0 = performance.now();
    const issue = (): void => {
      const index = issued++;
      const start = performance.now();
      submit(index).then((value) => {
        if (failed) return;
        const end = performance.now();
        latencies[done++] = end - start;
        if (verify && !verify(index, value)) wrong++;
        if (issued < total) issue();
        else if (done === total) {
          const elapsedMs = end - t0;
          resolve({ tasks: total, elapsedMs, tasksPerSec: (total / elapsedMs) * 1000, latenciesMs: latencies, wrong });
        }
      }, (error: unknown) => {
        failed = true;
        reject(error);
      });
    };
    for (let i = 0; i < Math.min(inFlight, total); i++) issue();
  });
}
