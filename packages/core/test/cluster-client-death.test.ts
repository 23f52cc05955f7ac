/**
 * A client that dies: its jobs wait in the queue for a node, but once its heartbeat key has
 * expired (the grace period) a node drops them instead of running them, and the blobs it stored
 * carry a TTL, so nothing of it is left for good.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllNodes, startNodeProcess, until } from './helpers/cluster-nodes.ts';
import { redisOrSkip, startRedis, type RedisServer } from './helpers/redis-server.ts';

const SUBMIT = fileURLToPath(new URL('./fixtures/scripts/cluster-submit.ts', import.meta.url));

describe.skipIf(!redisOrSkip())('cluster: a client that dies', () => {
  let redis: RedisServer | undefined;
  const marks = mkdtempSync(join(tmpdir(), 'tandem-dead-client-'));
  afterAll(async () => {
    await killAllNodes();
    await redis?.stop();
    rmSync(marks, { recursive: true, force: true });
  });

  it('has its queued jobs dropped after the grace period, not run', async () => {
    redis = await startRedis();
    const client = spawn(process.execPath, ['--import', 'tsx', SUBMIT, redis.url, marks, '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    client.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('submitted'), 30_000, 'the client to submit');
    const queue = new Queue('tasks', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'tandem' });
    try {
      expect(await queue.getWaitingCount()).toBeGreaterThan(0);
      client.kill('SIGKILL'); // no close(): its heartbeat key stays until it expires
      await new Promise((r) => client.once('exit', r));
      await new Promise((r) => setTimeout(r, 3_000)); // past the 2 s grace
      await startNodeProcess({ redis: redis.url, name: 'late-node' });
      await until(async () => (await queue.getWaitingCount()) === 0 && (await queue.getActiveCount()) === 0, 30_000, 'the node to take the dead client\'s jobs');
      expect(await queue.getFailedCount(), 'every job dropped as failed').toBeGreaterThan(0);
      const [failed] = await queue.getFailed(0, 0);
      expect(failed!.failedReason).toMatch(/client .* is gone/);
      expect(readdirSync(marks), 'a dropped job ran').toEqual([]);
      expect(existsSync(join(marks, '0'))).toBe(false);
    } finally {
      await queue.close();
    }
  });
});
