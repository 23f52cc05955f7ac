/** What travels to a worker for one block: the source by reference (shared memory), never its rows. */

/** One map of the chain, as a worker loads it. */
export interface MapStep {
  readonly href: string;
  readonly exportName: string;
  readonly params: unknown;
  readonly features: number | undefined;
}

export interface BlockTask {
  /** The whole source, on shared memory. */
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly features: number;
  /** The epoch's order (source row of each position), or null for the source's own order. */
  readonly order: Int32Array | null;
  readonly start: number;
  readonly rows: number;
  readonly epoch: number;
  readonly seed: number;
  readonly maps: readonly MapStep[];
  /**
   * Views of the output where this block's rows go. Null when the output feature count is not
   * known yet: the block then comes back on shared memory of its own.
   */
  readonly out: { readonly x: Float32Array; readonly y: Int32Array } | null;
}

export interface BlockResult {
  readonly features: number;
  /** Present when the task had no `out`: rows × features, on a SharedArrayBuffer. */
  readonly x?: Float32Array;
  readonly y?: Int32Array;
}
