/**
 * Runs peers side by side: a warm-up round, then `reps` rounds in which every peer runs once.
 * The starting peer rotates each round so no peer always runs first (or right after the same
 * neighbour), and peers share the machine's drift evenly.
 */
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
      const result = await peer.run(rep);
      results.get(peer.id)!.push(result);
      options.onResult?.(peer.id, rep, result);
    }
  }
  return results;
}
