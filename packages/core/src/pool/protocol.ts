import type { AnyTypedArray } from '../tensor.ts';

/**
 * One message carries many tasks: a Comlink round trip costs tens of microseconds, so tiny tasks
 * travel in batches. Module URLs are sent once per batch and referenced by index.
 */
export interface BatchRequest {
  readonly modules: readonly string[];
  /** [index into `modules`, export name, encoded arguments] per task. */
  readonly tasks: ReadonlyArray<readonly [number, string, readonly unknown[]]>;
  /** Process workers have no shared memory: send each task's tensor data back for write-back. */
  readonly copyBack: boolean;
}

export interface BatchReply {
  /** Per task: the encoded result, or a SerializedError when its index is in `failed`. */
  readonly values: unknown[];
  readonly failed: number[];
  /** Per task: [start offset from the batch's receipt, duration], in milliseconds. */
  readonly times: Float64Array;
  /** Copy mode only: per task, the data of each tensor argument in walk order. */
  readonly tensorData?: AnyTypedArray[][];
}

export interface WorkerIdentity {
  readonly pid: number;
  readonly threadId: number;
}

/** What a worker exposes over Comlink. */
export interface WorkerApi {
  ping(): WorkerIdentity;
  runBatch(request: BatchRequest): Promise<BatchReply>;
}

/** Passed to a thread worker at start-up. */
export interface ThreadWorkerData {
  /** The worker stores the index of the task it is running here, so a crash names its culprit. */
  readonly cursor: Int32Array;
}
