/**
 * What a job carries and what it returns. A job is one or more calls of the same exported
 * function of one task module (runMany batches tasks, as the local pool does per message); its id
 * is derived from its content and the caller's call id, so a job submitted twice is one job.
 */
import { createHash } from 'node:crypto';
import { ArgumentError } from '../errors.ts';

/** Job data (JSON). Version 1. */
export interface TaskJob {
  readonly v: 1;
  /** The client that submitted it (its heartbeat key says whether it is still there). */
  readonly client: string;
  /** A file: URL or a package specifier; never code. */
  readonly module: string;
  readonly exportName: string;
  /**
   * 'session': a session task (`session-task.ts`), run in the node's main thread with the node's
   * session, for work that drives a session itself (a sweep trial's `train`). One task per job.
   */
  readonly kind?: 'session';
  /** Each task's encoded argument list. */
  readonly tasks: readonly unknown[];
  readonly timeoutMs?: number;
  /** Crash/timeout retries inside the node's pool (node deaths are BullMQ's stalled-job recovery). */
  readonly retries?: number;
}

/** Job result (JSON): per task, its encoded value or error, in order. */
export interface TaskJobResult {
  readonly v: 1;
  readonly node: string;
  readonly results: readonly ({ readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown })[];
}

/** Largest job data accepted, in bytes of JSON: big values belong in the blob store. */
export const MAX_JOB_BYTES = 8 * 1024 * 1024;
/** Most tasks in one job. */
export const MAX_TASKS_PER_JOB = 10_000;

/** The job id: the SHA-256 of the call id and the job's content. */
export function jobId(callId: string, job: TaskJob): string {
  return createHash('sha256').update(callId).update('\0').update(JSON.stringify(job)).digest('hex').slice(0, 40);
}

/** Checks job data read from Redis before anything runs; throws ArgumentError naming the field. */
export function validateJob(data: unknown): TaskJob {
  if (typeof data !== 'object' || data === null) throw new ArgumentError('job', 'an object', data);
  const j = data as Record<string, unknown>;
  if (j.v !== 1) throw new ArgumentError('job.v', 'version 1 of the task job format', j.v);
  if (typeof j.client !== 'string' || !/^[\w:.-]{1,128}$/.test(j.client)) throw new ArgumentError('job.client', 'a client id', j.client);
  if (typeof j.module !== 'string' || j.module.length === 0 || j.module.length > 4096) throw new ArgumentError('job.module', 'a module URL or package name', j.module);
  if (typeof j.exportName !== 'string' || !/^[A-Za-z_$][\w$]{0,255}$/.test(j.exportName)) throw new ArgumentError('job.exportName', 'an export name', j.exportName);
  if (!Array.isArray(j.tasks) || j.tasks.length === 0 || j.tasks.length > MAX_TASKS_PER_JOB) throw new ArgumentError('job.tasks', `1 to ${MAX_TASKS_PER_JOB} argument lists`, j.tasks);
  if (!j.tasks.every(Array.isArray)) throw new ArgumentError('job.tasks', 'argument lists (arrays)', j.tasks);
  if (j.kind !== undefined && j.kind !== 'session') throw new ArgumentError('job.kind', "'session' or nothing", j.kind);
  if (j.kind === 'session' && j.tasks.length !== 1) throw new ArgumentError('job.tasks', 'one argument list for a session task', j.tasks.length);
  if (j.timeoutMs !== undefined && (typeof j.timeoutMs !== 'number' || !(j.timeoutMs > 0))) throw new ArgumentError('job.timeoutMs', 'a positive number', j.timeoutMs);
  if (j.retries !== undefined && (!Number.isSafeInteger(j.retries) || (j.retries as number) < 0 || (j.retries as number) > 100)) throw new ArgumentError('job.retries', 'an integer from 0 to 100', j.retries);
  return data as TaskJob;
}
