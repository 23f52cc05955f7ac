// Raw BullMQ peer of the cluster bench: a plain BullMQ Worker in its own process doing the same
// x + 1 as Tandem's `inc`, with nothing of Tandem in between — the job engine's own limit.
// argv: redis URL, queue name, key prefix, concurrency. Prints "ready" once consuming.
import { Worker } from 'bullmq';

const [url, queueName, prefix, concurrency] = process.argv.slice(2);
const u = new URL(url);
// Blocking commands: ioredis must retry for ever rather than fail a request (BullMQ's requirement).
const connection = { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
const worker = new Worker(queueName, async (job) => job.data.x + 1, { connection, prefix, concurrency: Number(concurrency) });
worker.on('error', () => {});
await worker.waitUntilReady();
console.log('ready');
process.once('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
