// Plain worker_threads spinner for the CPU section's hardware ceiling (no pool, no per-task
// messages). It loads the same spin() as Tandem's task module, through tsx's loader.
// Message: [iterations, count] → runs spin(iterations) count times, replies with the sum.
import { parentPort } from 'node:worker_threads';
const { register } = await import('tsx/esm/api');
register();
const { spin } = await import('./spin.ts');

parentPort.on('message', ([iterations, count]) => {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += spin(iterations);
  parentPort.postMessage(sum);
});
parentPort.postMessage('ready');
