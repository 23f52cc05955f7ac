/**
 * What crosses machines: arguments and results as JSON for BullMQ, with binary parts through the
 * blob store in a real Redis — every kind of value comes back as it went, big ones by reference
 * (chunked above 16 MiB), and a job's data is validated before anything runs.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, Tensor } from '../src/index.ts';
import { BlobStore, CHUNK_BYTES } from '../src/cluster/blob-store.ts';
import { decode, encode } from '../src/cluster/codec.ts';
import { jobId, validateJob, type TaskJob } from '../src/cluster/protocol.ts';
import { allowedModule, allowList } from '../src/cluster/allow.ts';
import { redisOrSkip, startRedis, type RedisServer } from './helpers/redis-server.ts';

describe.skipIf(!redisOrSkip())('cluster codec and blob store', () => {
  let server: RedisServer;
  let redis: Redis;
  let store: BlobStore;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    store = new BlobStore(redis, 'codec-test', 60);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  const roundTrip = async (v: unknown) => decode(JSON.parse(JSON.stringify(await encode(v, store))), store);

  it('plain data, special numbers, undefined, bigint, dates, maps and sets come back as they went', async () => {
    const value = {
      n: 1.5, s: 'x', b: true, z: null, u: undefined, nan: NaN, inf: -Infinity, big: 2n ** 70n,
      d: new Date(1_700_000_000_123), m: new Map<unknown, unknown>([['a', 1], [2, [3]]]), set: new Set([1, 'two']),
      nested: [[1, { deep: [undefined] }]], $tandem: 'a user key that looks like ours',
    };
    expect(await roundTrip(value)).toEqual(value);
  });

  it('tensors and every typed array round-trip bit-exact, small ones inline and big ones as blobs', async () => {
    const small = new Float64Array([1, -0, NaN, 3.5]);
    const big = Tensor.from(Float32Array.from({ length: 300_000 }, (_, i) => Math.sin(i)), [600, 500]);
    const arrays = [new Int8Array([-1, 2]), new Uint16Array([65535]), new Int32Array(5000).fill(-7), new BigInt64Array([-(2n ** 63n)]), new Uint8ClampedArray([255])];
    const encoded = await encode({ small, big, arrays }, store);
    const text = JSON.stringify(encoded);
    expect(text.length).toBeLessThan(20_000); // the 1.2 MB tensor went by reference
    const back = (await decode(JSON.parse(text), store)) as { small: Float64Array; big: Tensor; arrays: ArrayBufferView[] };
    expect(Object.is(back.small[1], -0)).toBe(true);
    expect(back.small).toEqual(small);
    expect(back.big).toBeInstanceOf(Tensor);
    expect(back.big.shape).toEqual([600, 500]);
    expect(Buffer.from(back.big.data.buffer, back.big.data.byteOffset, back.big.data.byteLength).equals(Buffer.from(big.data.buffer))).toBe(true);
    back.arrays.forEach((a, i) => {
      expect(a.constructor).toBe(arrays[i]!.constructor);
      expect(a).toEqual(arrays[i]);
    });
  });

  it('stores a blob above one chunk in several keys, each with the TTL, and says when one is missing', async () => {
    const bytes = new Uint8Array(CHUNK_BYTES + 1000).map((_, i) => i % 251);
    const ref = await store.put(bytes);
    const keys = await redis.keys(`codec-test:blob:${ref.blob}:*`);
    expect(keys.sort()).toEqual([0, 1].map((c) => `codec-test:blob:${ref.blob}:${c}`));
    for (const k of keys) expect(await redis.ttl(k)).toBeGreaterThan(0);
    expect(Buffer.from(await store.get(ref)).equals(Buffer.from(bytes))).toBe(true);
    await redis.del(keys[1]!);
    await expect(store.get(ref)).rejects.toThrow(/chunk 1 is not in Redis/);
  });

  it('errors come back as their class, with their code and fields', async () => {
    const back = await roundTrip(new ArgumentError('seed', 'a number', 'x'));
    expect(back).toBeInstanceOf(ArgumentError);
    expect(back).toMatchObject({ argument: 'seed', code: 'ERR_TANDEM_INVALID_ARGUMENT' });
  });

  it('refuses what cannot cross machines, naming where it is', async () => {
    await expect(encode({ a: [1, () => 2] }, store)).rejects.toThrow(/value\.a\[1\]/);
    await expect(encode({ c: new (class Point { x = 1 })() }, store)).rejects.toThrow(ArgumentError);
  });
});

describe('job data', () => {
  const job: TaskJob = { v: 1, client: 'client-1', module: 'file:///srv/tasks/a.js', exportName: 'run', tasks: [[1], [2]] };

  it('validates every field before a node runs anything', () => {
    expect(validateJob(job)).toBe(job);
    for (const [field, bad] of [['v', 2], ['client', 'a b'], ['module', ''], ['exportName', 'x-y'], ['tasks', []], ['tasks', [1]], ['timeoutMs', -1], ['retries', 1.5]] as const) {
      expect(() => validateJob({ ...job, [field]: bad }), field).toThrow(new RegExp(`job\\.${field}`));
    }
  });

  it('gives the same content and call the same id, and anything else another', () => {
    expect(jobId('c:1:0', job)).toBe(jobId('c:1:0', { ...job }));
    expect(jobId('c:1:0', job)).not.toBe(jobId('c:1:2', job));
    expect(jobId('c:1:0', job)).not.toBe(jobId('c:1:0', { ...job, tasks: [[1], [3]] }));
  });

  it('allows files under the allowed directories and listed packages only', () => {
    const list = allowList(['/srv/tasks', 'my-tasks']);
    expect(allowedModule('file:///srv/tasks/sub/a.js', list, 'n1')).toBe('file:///srv/tasks/sub/a.js');
    expect(() => allowedModule('file:///srv/tasks/../etc/passwd', list, 'n1')).toThrow(/refused/);
    expect(() => allowedModule('file:///srv/tasks-evil/a.js', list, 'n1')).toThrow(/refused/);
    expect(() => allowedModule('other-package', list, 'n1')).toThrow(/refused package 'other-package'/);
    expect(() => allowedModule('my-tasks/x', list, 'n1')).toThrow(/has no package 'my-tasks\/x' installed/);
  });
});
