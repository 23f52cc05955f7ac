/** Types shared by the trainer (main thread) and its replicas (worker threads). */

/** Optimizers every replica can build identically. */
export type OptimizerName = 'sgd' | 'momentum' | 'adam' | 'rmsprop';

/** An optimizer by name (default hyperparameters) or with its hyperparameters. */
export type OptimizerSpec =
  | OptimizerName
  | {
      type: OptimizerName;
      learningRate?: number;
      /** momentum: the momentum; rmsprop: its momentum term. */
      momentum?: number;
      beta1?: number;
      beta2?: number;
      epsilon?: number;
      /** rmsprop decay. */
      decay?: number;
    };

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

/** Sent once to each replica: what to build and where the data lives (shared memory, never copied). */
export interface ReplicaInit {
  replica: number;
  replicas: number;
  modelUrl: string;
  config: unknown;
  optimizer: OptimizerConfig;
  backend: 'wasm' | 'cpu';
  /** Seeds Math.random while createModel runs, so unseeded initialisers are reproducible. */
  seed: number;
  /** [n, features] training images, on a SharedArrayBuffer. */
  x: Float32Array;
  /** [n] int32 labels, on a SharedArrayBuffer. */
  y: Int32Array;
  features: number;
  /** Index order of the current epoch (written by the trainer before each epoch). */
  order: Int32Array;
}

/** What a replica reports after building its model. */
export interface ReplicaDescription {
  inputShape: (number | null)[];
  outputUnits: number;
  weightShapes: number[][];
  weightCount: number;
  trainableCount: number;
}

/** The all-reduce buffers, allocated once the parameter count is known. */
export interface ReplicaBuffers {
  /** [2 (double buffer), replicas, trainableCount] share-scaled gradients. */
  grads: Float32Array;
  /** [2, replicas] share-scaled loss sums (float64). */
  losses: Float64Array;
  /** [weightCount]: replica 0's initial weights, broadcast to the others. */
  weights: Float32Array;
}
