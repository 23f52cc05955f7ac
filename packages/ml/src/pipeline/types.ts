/** Public types of the input pipeline. */
import type { Tandem, Tensor } from '@tandem/core';

/**
 * What a map function receives: one block of consecutive rows of the epoch, already in the
 * epoch's (shuffled) order. `x` and `y` are private copies: the function may overwrite them and
 * return them. `sourceRows` is read-only.
 */
export interface MapBlock<P = unknown> {
  /** rows × features values, row-major. */
  readonly x: Float32Array;
  /** One label per row. */
  readonly y: Int32Array;
  readonly rows: number;
  /** Values per row of `x` (the previous map's output features, for a map after another). */
  readonly features: number;
  readonly epoch: number;
  /** The pipeline's seed. */
  readonly seed: number;
  /** Position of the block's first row in the epoch. */
  readonly start: number;
  /** Index in the source set of each row of the block. */
  readonly sourceRows: Int32Array;
  /** The `params` given to `.map()`. */
  readonly params: P;
  /**
   * A generator seeded from (seed, epoch, start + row, this map's place in the chain): draw a
   * row's randomness from it and the output does not depend on how rows were split into blocks.
   */
  random(row: number): () => number;
}

/** What a map function returns: new rows (any number of features, the same for every block), and optionally new labels. */
export interface MapResult {
  /** rows × outFeatures values. */
  readonly x: Float32Array;
  /** One label per row; the block's labels pass through when absent. */
  readonly y?: Int32Array;
}

/** A map function, exported by name from a module that worker threads import. */
export type MapFunction<P = unknown> = (block: MapBlock<P>) => MapResult | Promise<MapResult>;

/** Options of {@link Pipeline.map}. */
export interface MapOptions<P = unknown> {
  /** Passed to every call as `block.params`; must be structured-cloneable (a SharedArrayBuffer stays shared). */
  params?: P;
  /** Output features per row, when known: each block's result is checked against it. */
  features?: number;
}

/** Options of {@link Pipeline.shuffle}. */
export interface ShuffleOptions {
  /** Seed of the order; each epoch's order is drawn from (seed, epoch). Default: the pipeline's seed. */
  seed?: number;
}

/** Options of {@link Pipeline.batch}. */
export interface BatchOptions {
  /** Leave out the last batch when it would be smaller than the others. Default false. */
  dropRemainder?: boolean;
}

/** Options of {@link pipeline}. */
export interface PipelineOptions {
  /**
   * The session whose workers run the maps, beside its other work (its stats count the blocks;
   * its `trace()` shows each block on its worker's track). Without one the pipeline starts
   * workers of its own (`workers`).
   */
  session?: Tandem;
  /**
   * Worker threads that run the maps, when there is no `session`; default: the machine's
   * available parallelism. `0` runs maps on the main thread (for debugging a map). Without maps
   * no worker is started.
   */
  workers?: number;
  /** Seeds the shuffle (unless `shuffle({ seed })` says otherwise) and is every map's `block.seed`. Default 0. */
  seed?: number;
  /** Rows per map call when the pipeline is not batched (batched, a call maps one batch). Default 512. */
  blockRows?: number;
  /** Attempts added after a worker crashes (or times out) while mapping a block. Default 2. */
  retries?: number;
  /** Limit on one attempt at mapping one block, in milliseconds. Default: none. */
  timeoutMs?: number;
}

/** One batch of an epoch, on shared memory. */
export interface Batch {
  /** [rows, features] */
  readonly x: Tensor<'float32'>;
  /** [rows] */
  readonly y: Tensor<'int32'>;
  /** Position of the batch in its epoch, from 0. */
  readonly index: number;
  readonly epoch: number;
}
