import type { SerializedError } from '../errors.ts';
import type { AnyTypedArray } from '../tensor/tensor.ts';
import type { CursorLocation } from './cursor.ts';

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

/** Passed to a worker at start-up (workerData for a thread; an environment variable, as JSON, for a process). */
export interface WorkerStartData {
  /** Where the worker records the index of the task it is running, so a crash names its culprit. */
  readonly cursor: CursorLocation;
}

export const START_DATA_ENV = 'TANDEM_WORKER_START';

/** A process worker's last word: the uncaught error it is about to die of. */
export interface FatalMessage {
  readonly __tandemFatal: SerializedError;
}

export function isFatalMessage(message: unknown): message is FatalMessage {
  return typeof message === 'object' && message !== null && '__tandemFatal' in message;
}
