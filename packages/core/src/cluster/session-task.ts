/**
 * Session tasks: work that drives a session itself rather than running in one of its workers — a
 * sweep trial is a whole `train()` run, which leases the node's workers for its replicas. A
 * session task is an exported function of an allowed module, run in the node's main thread as
 * `fn(context, ...args)`, where the context holds the node's session and the ways back to the
 * caller: `report` (one-way, e.g. each epoch's record) and `ask` (a question the caller answers
 * before the task goes on, e.g. "does this trial continue past its rung?").
 *
 * Both travel as BullMQ job progress (JSON); an answer comes back under a Redis key the task
 * polls. A question is asked again every few seconds until answered, so a caller that missed the
 * event (its connection dropped) still sees it; the caller answers each question once and
 * repeats that answer. The task is cancelled (its `signal` aborts) when the caller cancels the
 * job or its client key expires (it died).
 */
import { TandemError } from '../errors.ts';
import type { Tandem } from '../session/session.ts';
import { clientKey } from './heartbeat.ts';

type Redis = import('ioredis').Redis;

/** What a session task receives as its first argument. */
export interface SessionTaskContext {
  /** The node's session: its workers and devices. */
  readonly session: Tandem;
  /** The node's name, as `cluster status` shows it. */
  readonly node: string;
  /** Aborts when the caller cancels this task or is gone. */
  readonly signal: AbortSignal;
  /**
   * The file URL of `module` if this node's `--allow` list lets it run it; throws
   * `TaskModuleError` otherwise. A task that loads modules it was named (a model) checks them here.
   */
  allowed(module: string): string;
  /** Sends `value` (JSON) to the caller's `onReport`. */
  report(value: unknown): Promise<void>;
  /** Sends `question` (JSON) to the caller's `onAsk` and resolves with its answer. */
  ask(question: unknown): Promise<unknown>;
}

/** What a session task's job reports as progress. */
export type SessionTaskMessage = { readonly report: unknown } | { readonly ask: number; readonly question: unknown };

/** Where the caller answers question `n` of job `jobId`. */
export const replyKey = (prefix: string, jobId: string, n: number) => `${prefix}:reply:${jobId}:${n}`;
/** Set by the caller to cancel job `jobId`. */
export const cancelKey = (prefix: string, jobId: string) => `${prefix}:cancel:${jobId}`;

/** An answer or a cancel mark outlives any sane wait for it, then goes. */
export const REPLY_TTL_SECONDS = 3600;
/** How often a waiting question looks for its answer, and a running task for its cancel mark. */
const POLL_MS = 50;
/** How often an unanswered question is asked again. */
const REASK_MS = 2000;
/** How often a running task checks that its caller is still there. */
const CALLER_CHECK_MS = 2000;

interface Job {
  readonly id?: string;
  updateProgress(value: object): Promise<void>;
}

/** Runs `fn(context, ...args)` for job `job` of client `client` on `session`. */
export async function runSessionTask(fn: (context: SessionTaskContext, ...args: unknown[]) => unknown, args: readonly unknown[], where: {
  job: Job; client: string; redis: Redis; prefix: string; session: Tandem; node: string; allowed(module: string): string;
}): Promise<unknown> {
  const { job, redis, prefix } = where;
  const jobId = job.id ?? '';
  const controller = new AbortController();
  let asked = 0;
  let lastCallerCheck = Date.now();
  const callerGone = async (): Promise<boolean> => {
    if (Date.now() - lastCallerCheck < CALLER_CHECK_MS) return false;
    lastCallerCheck = Date.now();
    return (await redis.exists(clientKey(prefix, where.client))) === 0;
  };
  const checkCancel = async () => {
    if (controller.signal.aborted) return;
    try {
      if ((await redis.exists(cancelKey(prefix, jobId))) === 1) controller.abort(new TandemError('ERR_TANDEM_CANCELLED', `the caller cancelled job ${jobId}`));
      else if (await callerGone()) controller.abort(new TandemError('ERR_TANDEM_CLUSTER', `client ${where.client} is gone; its task was stopped`));
    } catch {
      // Redis away: the next look
    }
  };
  const watch = setInterval(() => void checkCancel(), POLL_MS * 4);
  watch.unref();
  const context: SessionTaskContext = {
    session: where.session,
    node: where.node,
    signal: controller.signal,
    allowed: where.allowed,
    report: (value) => job.updateProgress({ report: value } satisfies SessionTaskMessage),
    async ask(question) {
      const n = ++asked;
      const key = replyKey(prefix, jobId, n);
      let lastAsk = 0;
      for (;;) {
        controller.signal.throwIfAborted();
        if (Date.now() - lastAsk >= REASK_MS) {
          await job.updateProgress({ ask: n, question } satisfies SessionTaskMessage);
          lastAsk = Date.now();
        }
        const reply = await redis.get(key);
        if (reply !== null) return JSON.parse(reply) as unknown;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
  };
  try {
    return await fn(context, ...args);
  } finally {
    clearInterval(watch);
  }
}
