/** The public shapes of {@link train}: its options, what it reports while it runs, what it returns. */
import type { ModuleSpecifier, Tandem } from '@tandem/core';
import type { LabelledSet } from '../datasets/index.ts';
import type { NonFiniteStep } from './errors.ts';
import type { Pipeline } from '../pipeline/index.ts';
import type { OptimizerSpec, ReplicaEngine } from './types.ts';

/** What {@link train} trains on. */
export interface TrainData {
  /**
   * The training examples, or a {@link Pipeline} over them: then each epoch is the pipeline's
   * `materialize(epoch)` (mapped in its workers), and epoch e + 1 is prepared while epoch e trains.
   */
  train: LabelledSet | Pipeline;
  /** Held-out set for `valAccuracy`; without it, the last `validationFraction` of `train` is held out. */
  validation?: LabelledSet;
  /** If present, `testAccuracy` is measured after training. */
  test?: LabelledSet;
}

/** One epoch of {@link TrainResult.history}. */
export interface EpochRecord {
  epoch: number;
  /** Mean training loss (cross-entropy) over the epoch's examples (those of skipped steps left out). */
  loss: number;
  /** Accuracy on the validation set after the epoch (NaN if there is none). */
  valAccuracy: number;
  /** Training examples per second, the whole epoch's wall time (excluding validation). */
  samplesPerSecond: number;
  /** Fraction of the epoch's examples each replica slot processed (0 for a slot dropped before it). */
  shares: number[];
  seconds: number;
}

/** One optimizer step, reported to `onStep` as it completes. */
export interface StepRecord {
  epoch: number;
  /** 1-based step within the epoch, and the epoch's step count. */
  step: number;
  steps: number;
  /** Steps completed since training began (counting resumed checkpoints). */
  globalStep: number;
  /** Mean loss over this step's batch. */
  loss: number;
  /** Examples each replica slot computed in this step. */
  counts: number[];
}

/** A replica that failed and what was done about it. */
export interface ReplicaFailure {
  slot: number;
  engine: ReplicaEngine;
  epoch: number;
  /** The first step of the epoch that was re-run without (or with a replacement of) the replica. */
  step: number;
  error: unknown;
  action: 'replaced' | 'dropped';
}

export interface EpochContext {
  /** Every live replica's weights, flattened in getWeights() order: for checking they are bit-identical. */
  replicaWeights(): Promise<Float32Array[]>;
}

/** Where and how often {@link train} writes checkpoints. */
export interface CheckpointOptions {
  /**
   * Directory of the checkpoints (created if missing); pass the same one to `resumeFrom`. Checked
   * at the call: a path that is (or is under) a file, or that can't be written, is an
   * ArgumentError naming `checkpoint.directory`.
   */
  directory: string;
  /** Steps between checkpoints; default: one per epoch, at its end. */
  everySteps?: number;
}

export interface TrainOptions<C = unknown> {
  /** Module exporting `createModel(config)` that returns a tfjs-layers model with softmax outputs (else an ArgumentError naming `model`). */
  model: ModuleSpecifier;
  config?: C;
  data: TrainData;
  epochs: number;
  batchSize: number;
  /**
   * The session whose workers and devices the replicas use: each replica (a tensorflow one
   * excepted) runs on one of its workers, lent to the run and given back when it ends, so the
   * session's stats count its steps and no thread is started beside the session's; the replicas'
   * placement and step times go to its cost model (persisted with its cost cache), `explain()`
   * and `trace()`. Without one, train() opens a session of its own for the run and closes it.
   */
  session?: Tandem;
  /**
   * The replicas, one worker each: a count of CPU replicas (on `backend`), a list of engines
   * (e.g. `['wasm', 'wasm', 'webgpu']`), or 'auto' (default): one wasm replica per free worker of
   * the session (a session of its own has one per core) — or one tensorflow replica using every
   * core when @tensorflow/tfjs-node loads — with one of those workers feeding a webgpu replica
   * when the session has a WebGPU device. Under 'auto' the planner gives no replica to a device
   * that would slow the step (a software GPU, or one predicted under 1/8 of the fastest other
   * device's throughput); `td.explain()` says why.
   */
  replicas?: number | 'auto' | ReplicaEngine[];
  /** Default `{ type: 'adam', learningRate: 1e-3 }`. */
  optimizer?: OptimizerSpec;
  /** Starting weights in getWeights() order (e.g. a previous result's `weights`); default: the seeded initialisation. */
  initialWeights?: Float32Array[];
  /** Seed of the per-epoch shuffle and of the initialisers (Math.random is seeded while createModel runs). Default 0. */
  seed?: number;
  /** Share of `train` held out for validation when `data.validation` is absent. Default 0.1 (0 for a pipeline). */
  validationFraction?: number;
  /** tfjs engine of the replicas when `replicas` is a count. Default 'wasm'. */
  backend?: 'wasm' | 'cpu';
  /**
   * Split each batch by throughput (default) or always equally. By throughput, the first step's
   * split is the planner's, from what the session learned of this model on these engines and
   * devices (equal the first time); each step's measured times then correct it.
   */
  balance?: 'throughput' | 'equal';
  /** What to do when a replica fails (its worker crashes, its device is lost): start a new one in its place (default) or go on without it. */
  onReplicaFailure?: 'replace' | 'drop';
  checkpoint?: CheckpointOptions;
  /** A checkpoint directory to continue from (the same data, batch size and seed). */
  resumeFrom?: string;
  onEpoch?: (record: EpochRecord, context: EpochContext) => void | Promise<void>;
  /** Called after each step; training does not wait for it. */
  onStep?: (record: StepRecord) => void;
  /** Called when a replica fails, after it was replaced or dropped. */
  onFailure?: (failure: ReplicaFailure) => void;
  /** Stops training now: the promise rejects with the signal's reason; the replicas' workers end. */
  signal?: AbortSignal;
  /**
   * A replica that keeps the others waiting at a step's barrier this long is taken as hung: its
   * worker is ended and it is replaced or dropped, as if it had crashed. Default: no limit.
   */
  stepTimeoutMs?: number;
  /**
   * A step whose loss, summed gradient or optimizer update is NaN or ±Infinity: `'error'`
   * (default) stops training, rejecting with `NonFiniteError` (its epoch, step and batch rows);
   * `'skip'` leaves the weights and the optimizer as they were, goes on, and lists the step in
   * {@link TrainResult.skippedSteps}. Either way the weights never take a non-finite value.
   * (Examples that are not finite are refused up front, as an ArgumentError naming the set.)
   */
  onNonFinite?: 'error' | 'skip';
}

export interface TrainResult {
  /** Trained weights in getWeights() order, loadable with `model.setWeights(...)` after shaping. */
  weights: Float32Array[];
  weightShapes: number[][];
  history: EpochRecord[];
  testAccuracy?: number;
  /** The engine of each replica slot, and its description. */
  replicas: { engine: ReplicaEngine; description: string }[];
  /** Replicas that failed during training. */
  failures: ReplicaFailure[];
  /** Steps skipped as not finite (`onNonFinite: 'skip'`), in order; empty otherwise. */
  skippedSteps: NonFiniteStep[];
}
