/// <reference path="../types/comlink-node-adapter.d.ts" />
import type { MessagePort, Worker } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

/** Comlink endpoint over a worker thread, or over `parentPort` inside one. */
export function threadEndpoint(port: Worker | MessagePort): Endpoint {
  return nodeEndpoint(port as unknown as Parameters<typeof nodeEndpoint>[0]);
}

/** Anything that speaks Node's `send`/`on('message')` IPC: a ChildProcess, or `process` in the child. */
export interface IpcChannel {
  send?(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * Comlink endpoint over a child process's IPC channel (Node's advanced serialization, so typed
 * arrays and Maps survive). Transfer lists don't apply between processes: data is copied.
 */
export function ipcEndpoint(channel: IpcChannel): Endpoint {
  return nodeEndpoint({
    postMessage(message: unknown) {
      if (!channel.send) throw new Error('this process has no IPC channel (was it started with fork?)');
      channel.send(message);
    },
    on: (_event, listener) => channel.on('message', listener),
    off: (_event, listener) => channel.off('message', listener),
  });
}
