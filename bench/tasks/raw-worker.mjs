// Raw postMessage RPC: the channel's own limit. Messages are [id, x]; replies [id, x + 1].
import { parentPort } from 'node:worker_threads';
import inc from './inc.mjs';

parentPort.on('message', (m) => {
  parentPort.postMessage([m[0], inc(m[1])]);
});
