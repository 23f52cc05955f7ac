/** Types shared by the trainer (main thread) and its replicas (worker threads). */

/** Optimizers every replica can build identically. */
export type OptimizerName = 'sgd' | 'momentum' | 'adam' | 'rmsprop';

/** Hyperparameters beside the optimizer's `type` (or `name`, as DESIGN.md spells it). */
interface OptimizerFields {
  learningRate?: number;
  /** momentum: the momentum; rmsprop: its momentum term. */
  momentum?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** rmsprop decay. */
  decay?: number;
}

/** An optimizer by name (default hyperparameters) or with its hyperparameters: `{ type: 'adam', learningRate }` or `{ name: 'adam', ... }`. */
export type OptimizerSpec = OptimizerName | (OptimizerFields & ({ type: OptimizerName; name?: never } | { name: OptimizerName; type?: never }));

/** Normalised optimizer description sent to every replica. */
export interface OptimizerConfig {
  type: OptimizerName;
  learningRate: number;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  decay?: number;
}

/** The tfjs engine a replica trains on: one per replica, each in its own worker thread. */
export type ReplicaEngine = 'wasm' | 'cpu' | 'webgpu' | 'tensorflow';

/** Sent once to each replica: what to build. */
export interface ReplicaInit {
  slot: number;
  modelUrl: string;
  config: unknown;
  optimizer: OptimizerConfig;
  engine: ReplicaEngine;
  /** Seeds Math.random while createModel runs, so unseeded initialisers are reproducible. */
  seed: number;
}

/** What a replica reports after building its model. */
export interface ReplicaDescription {
  inputShape: (number | null)[];
  outputUnits: number;
  weightShapes: number[][];
  weightCount: number;
  trainableCount: number;
  /** The engine's own description (e.g. "wasm (SIMD, 1 thread)"). */
  engine: string;
  /** The worker thread it runs in (Node's threadId). */
  threadId: number;
}

/** Shared memory every replica of a run reads and writes; allocated once the parameter count is known. */
export interface ReplicaBuffers {
  control: import('./control.ts').Control;
  /** [2 (double buffer by step parity), slots, trainableCount] share-scaled gradients. */
  grads: Float32Array;
  /** [stepsPerEpoch, slots]: each replica's share-scaled loss sum per step of the current epoch. */
  stepLoss: Float64Array;
  /** [stepsPerEpoch, slots]: examples each replica processed per step of the current epoch. */
  stepCount: Int32Array;
  /**
   * [stepsPerEpoch, slots, 4]: when each replica began the step's gradient, arrived at the
   * barrier, was released, and had applied the step — ms since the epoch (timeOrigin + now()),
   * the one clock every thread shares. Read by the main thread for the trace and the cost model.
   */
  stepTimes: Float64Array;
}

/** One run of consecutive steps of an epoch, which every live replica executes in lockstep. */
export interface Segment {
  /** Steps [from, to) of the epoch. */
  from: number;
  to: number;
  batchSize: number;
  /** [n, features] examples and [n] labels, on shared memory. */
  x: Float32Array;
  y: Int32Array;
  features: number;
  /** The epoch's order: example indices, [trainCount]. */
  order: Int32Array;
  /** A step whose loss, gradient or update is not finite: stop there, or skip it (leave the weights as they were). */
  onNonFinite: 'error' | 'skip';
}

/** How a run of steps ended, the same on every replica: they all decide from the same sums. */
export interface SegmentResult {
  /** The first step not run: the segment's `to`, or less if stopped early. */
  completed: number;
  /** Steps skipped as not finite (`onNonFinite: 'skip'`). */
  skipped: Array<{ step: number; kind: import('./errors.ts').NonFiniteKind }>;
  /** The step that went non-finite and stopped the run (`onNonFinite: 'error'`): `completed`. */
  nonFinite?: { step: number; kind: import('./errors.ts').NonFiniteKind };
}

/** A replica's complete training state: enough to make another replica (or a later run) identical. */
export interface ReplicaState {
  /** Every weight, flattened in getWeights() order. */
  weights: Float32Array;
  optimizerStep: number;
  optimizerSlots: Float32Array[];
}
