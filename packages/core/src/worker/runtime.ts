/**
 * Runs inside every worker (thread or process): loads task modules by URL, calls the named export
 * for each task of a batch, and returns results and errors as values.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { TaskModuleError, serializeError } from '../errors.ts';
import { decodeValue, encodeValue } from '../pool/wire.ts';
import { openCursor } from '../pool/cursor.ts';
import { START_DATA_ENV, type BatchReply, type BatchRequest, type FatalMessage, type WorkerApi, type WorkerStartData } from '../pool/protocol.ts';
import type { AnyTypedArray, Tensor } from '../tensor/tensor.ts';
import { ipcEndpoint, threadEndpoint } from './endpoint.ts';

type TaskFn = (...args: unknown[]) => unknown;

const modules = new Map<string, Promise<Record<string, unknown>>>();
const startData = (parentPort ? workerData : JSON.parse(process.env[START_DATA_ENV] ?? '{}')) as WorkerStartData | undefined;
const setCursor = openCursor(startData?.cursor);

function loadModule(href: string): Promise<Record<string, unknown>> {
  let loaded = modules.get(href);
  if (!loaded) {
    loaded = import(href).catch((error: unknown) => {
      throw new TaskModuleError('ERR_TANDEM_MODULE_LOAD', `task module ${href} failed to load: ${(error as Error)?.message ?? error}`, { cause: error });
    }) as Promise<Record<string, unknown>>;
    modules.set(href, loaded);
  }
  return loaded;
}

async function resolveExport(href: string, name: string): Promise<TaskFn> {
  const mod = await loadModule(href);
  const fn = mod[name];
  if (typeof fn !== 'function') {
    const names = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new TaskModuleError(
      'ERR_TANDEM_EXPORT_NOT_FUNCTION',
      `task module ${href} has no function export '${name}'` +
        (fn === undefined ? '' : ` (it is ${typeof fn})`) +
        `; its function exports: ${names.length ? names.join(', ') : 'none'}`,
    );
  }
  return fn as TaskFn;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

async function runBatch(request: BatchRequest): Promise<BatchReply> {
  const n = request.tasks.length;
  const values: unknown[] = new Array(n);
  const failed: number[] = [];
  const times = new Float64Array(2 * n);
  const tensorData: AnyTypedArray[][] | undefined = request.copyBack ? [] : undefined;
  const received = performance.now();
  for (let i = 0; i < n; i++) {
    const [moduleIndex, exportName, encodedArgs] = request.tasks[i]!;
    setCursor(i);
    const tensors: Tensor[] = [];
    const start = performance.now();
    try {
      const fn = await resolveExport(request.modules[moduleIndex]!, exportName);
      const args = decodeValue(encodedArgs, tensors) as unknown[];
      let value = fn(...args);
      if (isThenable(value)) value = await value;
      values[i] = encodeValue(value, 'result', request.copyBack ? 'copy' : 'shared', []);
    } catch (error) {
      values[i] = serializeError(error);
      failed.push(i);
    }
    const end = performance.now();
    times[2 * i] = start - received;
    times[2 * i + 1] = end - start;
    if (tensorData) tensorData.push(tensors.map((t) => t.data));
  }
  setCursor(-1);
  return tensorData ? { values, failed, times, tensorData } : { values, failed, times };
}

const api: WorkerApi = {
  ping: () => ({ pid: process.pid, threadId }),
  runBatch,
};

if (parentPort) {
  Comlink.expose(api, threadEndpoint(parentPort));
} else if (process.send) {
  // A process worker outlives nothing: when its parent goes, so does it.
  process.on('disconnect', () => process.exit(0));
  // Threads report the error that killed them through the Worker's 'error' event; a process has
  // only its exit code, so it sends the error first, then dies as an uncaught error would.
  const die = (error: unknown) => {
    setTimeout(() => process.exit(1), 1000).unref();
    const fatal: FatalMessage = { __tandemFatal: serializeError(error) };
    try {
      process.send!(fatal, () => process.exit(1));
    } catch {
      process.exit(1);
    }
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  Comlink.expose(api, ipcEndpoint(process));
} else {
  throw new Error('the Tandem worker runtime must run in a worker thread or a forked process');
}
