/**
 * The Redis test harness itself: a server starts on a free loopback port, answers PING, keeps a
 * key across a restart through its append-only file, and leaves nothing behind when stopped.
 */
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisOrSkip, startRedis, type RedisServer } from './helpers/redis-server.ts';

describe.skipIf(!redisOrSkip())('Redis test harness', () => {
  const servers: RedisServer[] = [];
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
  });
  const client = (url: string) => {
    const c = new Redis(url, { maxRetriesPerRequest: null });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };

  it('starts on a loopback port, answers PING, restarts with its data and removes its directory on stop', async () => {
    const server = await startRedis();
    servers.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const c = client(server.url);
    expect(await c.ping()).toBe('PONG');
    expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await c.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    await c.set('kept', 'across a restart');
    const before = server.pid();
    await server.restart();
    expect(server.pid()).not.toBe(before);
    // The same client reconnects to the same port by itself.
    expect(await c.get('kept')).toBe('across a restart');
    await server.stop();
    expect(existsSync(server.dir)).toBe(false);
    expect(server.pid()).toBeUndefined();
    await server.stop(); // idempotent
  });

  it('with appendfsync always, even SIGKILL loses no acknowledged write', async () => {
    const server = await startRedis({ appendfsync: 'always' });
    servers.push(server);
    const c = client(server.url);
    for (let i = 0; i < 100; i++) await c.rpush('list', String(i));
    await server.kill();
    expect(server.pid()).toBeUndefined();
    await server.restart();
    expect(await c.llen('list')).toBe(100);
  });

  it('with a password, the URL carries it and clients without it are refused', async () => {
    const server = await startRedis({ password: 'p@ss word' });
    servers.push(server);
    expect(server.url).toBe(`redis://:p%40ss%20word@127.0.0.1:${server.port}`);
    expect(await client(server.url).ping()).toBe('PONG');
    const anonymous = new Redis({ port: server.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true, enableReadyCheck: false });
    anonymous.on('error', () => undefined);
    await expect(anonymous.connect().then(() => anonymous.ping())).rejects.toThrow(/NOAUTH|Authentication/i);
    anonymous.disconnect();
  });
});
