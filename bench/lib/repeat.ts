/**
 * Runs peers side by side: a warm-up round, then `reps` rounds in which every peer runs once.
 * The starting peer rotates each round so no peer always runs first (or right after the same
 * neighbour), and peers share the machine's drift evenly. Before each measured run the main
 * thread's heap is collected in full, so no peer pays for the garbage of the one before it: a
 * 10 ms query run right after Arquero's 300 ms one (millions of JS objects) measured 10–29 ms,
 * depending on where the collection of Arquero's garbage fell.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full collection, then a pause for V8's background sweeping (a core's worth, on 2 cores) to end. */
export async function settle(): Promise<void> {
  fullGc();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}
const SETTLE_MS = 100;

/** V8's full collection, exposed at run time (the benches run without --expose-gc). */
export const fullGc: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();
export interface Peer<R> {
  readonly id: string;
  /** One measured run. */
  run(rep: number): Promise<R>;
  /** The warm-up run; defaults to `run(-1)`. Its result is discarded. */
  warmup?(): Promise<unknown>;
}

export interface AlternateOptions<R> {
  readonly reps: number;
  /** Warm-up rounds before measuring (default 1). */
  readonly warmupRounds?: number;
  /** Called after each measured run, e.g. to print a progress line. */
  readonly onResult?: (peer: string, rep: number, result: R) => void;
  /** Called after each warm-up run. */
  readonly onWarmup?: (peer: string, elapsedMs: number) => void;
}

export async function alternate<R>(peers: readonly Peer<R>[], options: AlternateOptions<R>): Promise<Map<string, R[]>> {
  const results = new Map<string, R[]>(peers.map((p) => [p.id, []]));
  for (let round = 0; round < (options.warmupRounds ?? 1); round++) {
    for (const peer of peers) {
      const t0 = performance.now();
      await (peer.warmup ? peer.warmup() : peer.run(-1));
      options.onWarmup?.(peer.id, performance.now() - t0);
    }
  }
  for (let rep = 0; rep < options.reps; rep++) {
    for (let k = 0; k < peers.length; k++) {
      const peer = peers[(rep + k) % peers.length]!;
      await settle();
      const result = await peer.run(rep);
      results.get(peer.id)!.push(result);
      options.onResult?.(peer.id, rep, result);
    }
  }
  return results;
}
