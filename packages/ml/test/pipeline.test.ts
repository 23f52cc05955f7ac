import { threadId } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ArgumentError, PoolClosedError, Tensor, WorkerCrashedError } from '@tandem/core';
import { datasets, pipeline, rowRandom, type Batch, type LabelledSet, type MapBlock, type Pipeline, type PipelineOptions } from '../src/index.ts';
import * as maps from './fixtures/pipeline-maps.ts';

const MAPS = new URL('./fixtures/pipeline-maps.ts', import.meta.url);

/** n rows of f features; row i holds i, i + 0.25, … and its label is i, so every row says where it came from. */
function synthetic(n: number, f = 3): LabelledSet {
  const x = Tensor.zeros([n, f], 'float32');
  const y = Tensor.zeros([n], 'int32');
  for (let i = 0; i < n; i++) {
    y.data[i] = i;
    for (let j = 0; j < f; j++) x.data[i * f + j] = i + j / 4;
  }
  return { x, y };
}

const open: Pipeline[] = [];
function make(source: LabelledSet, options?: PipelineOptions): Pipeline {
  const p = pipeline(source, options);
  open.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

function concat(batches: Batch[]): LabelledSet {
  const rows = batches.reduce((s, b) => s + b.y.size, 0);
  const f = batches[0]?.x.shape[1] ?? 0;
  const x = Tensor.zeros([rows, f], 'float32');
  const y = Tensor.zeros([rows], 'int32');
  let at = 0;
  for (const b of batches) {
    x.data.set(b.x.data, at * f);
    y.data.set(b.y.data, at);
    at += b.y.size;
  }
  return { x, y };
}

const sorted = (a: ArrayLike<number>) => Array.from(a).sort((p, q) => p - q);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const rejection = async (promise: Promise<unknown>): Promise<unknown> => promise.then(() => expect.fail('expected a rejection'), (e: unknown) => e);

describe('pipeline without maps (main thread)', () => {
  it('yields every example exactly once per epoch, in batches with a ragged last one', async () => {
    const src = synthetic(50);
    const p = make(src).shuffle({ seed: 3 }).batch(7);
    expect(p.batchesPerEpoch).toBe(8);
    for (const epoch of [0, 1]) {
      const batches = await collect(p.epoch(epoch));
      expect(batches.map((b) => b.y.size)).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);
      expect(batches.map((b) => b.index)).toEqual(range(8));
      for (const b of batches) {
        expect(b.x.shared && b.y.shared).toBe(true);
        expect(b.x.shape).toEqual([b.y.size, 3]);
        b.y.data.forEach((id, i) => expect(Array.from(b.x.data.subarray(i * 3, i * 3 + 3))).toEqual([id, id + 0.25, id + 0.5]));
      }
      expect(sorted(concat(batches).y.data)).toEqual(range(50));
    }
    expect(Reflect.get(p, 'pool')).toBeUndefined(); // no map: no workers started
  });

  it('drops the ragged batch when asked, from batches and from the materialized epoch', async () => {
    const p = make(synthetic(50)).batch(7, { dropRemainder: true });
    expect(p.rowsPerEpoch).toBe(49);
    const batches = await collect(p.epoch(0));
    expect(batches.map((b) => b.y.size)).toEqual(new Array(7).fill(7));
    const set = await p.materialize(0);
    expect(set.x.shape).toEqual([49, 3]);
    expect(Array.from(set.y.data)).toEqual(range(49));
  });

  it('shuffles by seed: same seed same order, a new order every epoch, source order without shuffle', async () => {
    const src = synthetic(200);
    const order = async (p: Pipeline, e: number) => Array.from((await p.materialize(e)).y.data);
    const a = make(src).shuffle({ seed: 1 });
    const b = make(src, { seed: 1 }).shuffle();
    const c = make(src).shuffle({ seed: 2 });
    const a0 = await order(a, 0);
    expect(a0).not.toEqual(range(200));
    expect(sorted(a0)).toEqual(range(200));
    expect(await order(b, 0)).toEqual(a0);
    expect(await order(a, 1)).not.toEqual(a0);
    expect(await order(b, 1)).toEqual(await order(a, 1));
    expect(await order(c, 0)).not.toEqual(a0);
    expect(await order(make(src), 5)).toEqual(range(200));
  });

  it('handles an empty set', async () => {
    const p = make(synthetic(0)).shuffle().batch(4);
    expect(await collect(p.epoch(0))).toEqual([]);
    expect((await p.materialize(0)).x.shape).toEqual([0, 3]);
  });
});

describe('pipeline with maps in worker threads', () => {
  let mnist: LabelledSet;
  beforeAll(async () => {
    mnist = (await datasets.mnist()).train;
  });

  it('maps all of MNIST in workers: every example once, unchanged pixels, a new order each epoch', async () => {
    const n = mnist.y.size;
    const p = make(mnist, { workers: 2 }).map(MAPS, 'tag').shuffle({ seed: 1 });
    const orders: number[][] = [];
    for (const epoch of [0, 1]) {
      const set = await p.materialize(epoch);
      expect(set.x.shape).toEqual([n, 786]);
      expect(set.x.shared && set.y.shared).toBe(true);
      const ids: number[] = [];
      const threads = new Set<number>();
      for (let i = 0; i < n; i++) {
        const row = set.x.data.subarray(i * 786, (i + 1) * 786);
        const id = row[784]!;
        ids.push(id);
        threads.add(row[785]!);
        expect(set.y.data[i]).toBe(mnist.y.data[id]);
        if (i % 97 === 0) expect(row.subarray(0, 784)).toEqual(mnist.x.data.subarray(id * 784, (id + 1) * 784));
      }
      expect(sorted(ids)).toEqual(range(n));
      expect(threads.has(threadId)).toBe(false); // never the main thread
      expect([...threads].every((t) => t > 0)).toBe(true);
      orders.push(ids);
    }
    expect(orders[1]).not.toEqual(orders[0]);
  });

  it('gives what the map gives on the main thread, with the same batches as the materialized epoch', async () => {
    const seed = 9;
    const epoch = 2;
    const src = synthetic(1000, 16);
    const p = make(src, { workers: 2, seed, blockRows: 300 }).map(MAPS, 'jitter');
    const set = await p.materialize(epoch);
    // By hand, on this thread: the same function over the same rows with the same generators.
    for (let start = 0; start < 1000; start += 300) {
      const rows = Math.min(300, 1000 - start);
      const block: MapBlock = {
        x: src.x.data.slice(start * 16, (start + rows) * 16), y: src.y.data.slice(start, start + rows), rows, features: 16, epoch, seed, start,
        sourceRows: Int32Array.from(range(rows), (i) => start + i), params: undefined, random: (row) => rowRandom(seed, epoch, start + row, 0),
      };
      expect(set.x.data.subarray(start * 16, (start + rows) * 16)).toEqual(maps.jitter(block).x);
    }
    expect(set.x.data).not.toEqual(src.x.data);

    const shuffled = make(src, { workers: 2, seed }).map(MAPS, 'jitter').shuffle().batch(64);
    const inline = make(src, { workers: 0, seed }).map(MAPS, 'jitter').shuffle().batch(64);
    const whole = await shuffled.materialize(epoch);
    expect(concat(await collect(shuffled.epoch(epoch)))).toEqual(whole);
    expect(await inline.materialize(epoch)).toEqual(whole);
  });

  it('runs maps on the main thread with workers: 0', async () => {
    const set = await make(synthetic(20), { workers: 0 }).map(MAPS, 'tag').materialize(0);
    for (let i = 0; i < 20; i++) expect(set.x.data[i * 5 + 4]).toBe(threadId);
  });

  it('composes maps in order, with a different feature count, and new labels', async () => {
    const src = synthetic(40, 6);
    const p = make(src, { workers: 2, blockRows: 16 }).map(MAPS, 'crop', { params: { keep: 2 }, features: 2 }).map(MAPS, 'tag').batch(16);
    const batches = await collect(p.epoch(0));
    expect(batches.map((b) => b.x.shape)).toEqual([[16, 4], [16, 4], [8, 4]]);
    const set = await p.materialize(0);
    expect(set.x.shape).toEqual([40, 4]);
    for (let i = 0; i < 40; i++) expect(Array.from(set.x.data.subarray(i * 4, i * 4 + 3))).toEqual([i, i + 0.25, i]);

    const before = src.x.data.slice();
    const relabelled = await make(src, { workers: 2 }).map(MAPS, 'relabel').materialize(0);
    expect(Array.from(relabelled.y.data)).toEqual(range(40).map((i) => i * 10));
    expect(relabelled.x.data.every((v) => v === 1)).toBe(true);
    expect(src.x.data).toEqual(before); // the map wrote into its private copy, not the source
  });

  it('maps at most `prefetch` batches ahead of the consumer', async () => {
    for (const prefetch of [0, 2]) {
      const counter = new Int32Array(new SharedArrayBuffer(4));
      const p = make(synthetic(100), { workers: 2 }).map(MAPS, 'count', { params: { counter } }).batch(10).prefetch(prefetch);
      let seen = 0;
      for await (const b of p.epoch(0)) {
        expect(b.index).toBe(seen);
        const ahead = Math.min(seen + 1 + prefetch, 10);
        expect(Atomics.load(counter, 0)).toBeLessThanOrEqual(ahead);
        // ...and it does map that far ahead while this batch is being used.
        await vi.waitFor(() => expect(Atomics.load(counter, 0)).toBe(ahead), { timeout: 20_000 });
        seen++;
      }
      expect(seen).toBe(10);
    }
  });

  it('keeps an epoch materialized early until it is asked for', async () => {
    const p = make(synthetic(64), { workers: 2 }).map(MAPS, 'jitter').shuffle();
    const first = await p.materialize(0);
    const early = p.materialize(1); // as a trainer would, before training on epoch 0
    expect(p.materialize(1)).toBe(early);
    const one = await early;
    expect(one).not.toEqual(first);
    expect(await p.materialize(2)).toBeDefined();
    const again = await p.materialize(1); // forgotten once epoch 2 was asked for: mapped again, the same
    expect(again).not.toBe(one);
    expect(again).toEqual(one);
  });
});

describe('pipeline errors', () => {
  it('rejects a bad argument at the call, naming it', async () => {
    const src = synthetic(10);
    const argumentOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ArgumentError);
        return (e as ArgumentError).argument;
      }
      return expect.fail('expected an ArgumentError');
    };
    expect(argumentOf(() => make(src).batch(0))).toBe('batchSize');
    expect(argumentOf(() => make(src).batch(2.5))).toBe('batchSize');
    expect(argumentOf(() => make(src).prefetch(-1))).toBe('batches');
    expect(argumentOf(() => make(src).shuffle({ seed: 0.5 }))).toBe('seed');
    expect(argumentOf(() => make(src).map(new URL('./fixtures/missing.ts', import.meta.url), 'x'))).toBe('module');
    expect(argumentOf(() => make(src).map(MAPS, ''))).toBe('exportName');
    expect(argumentOf(() => make(src).map(MAPS, 'jitter', { params: { fn: () => 1 } }))).toBe('params');
    expect(argumentOf(() => make(src).epoch(-1))).toBe('epoch');
    expect(argumentOf(() => pipeline(src, { workers: -1 }))).toBe('workers');
    expect(argumentOf(() => pipeline({ x: new Tensor('float32', [2, 1], new Float32Array(2)), y: new Tensor('int32', [2], new Int32Array(2)) }))).toBe('source');
    expect(argumentOf(() => pipeline({ x: src.x, y: Tensor.zeros([3], 'int32') }))).toBe('source.y');
    expect(((await rejection(make(src).materialize(1.5))) as ArgumentError).argument).toBe('epoch');
  });

  it('rejects a missing export or a result of the wrong shape with an ArgumentError naming it', async () => {
    const src = synthetic(30);
    const failure = async (name: string, options = {}) => {
      const e = await rejection(make(src, { workers: 1, blockRows: 10 }).map(MAPS, name, options).materialize(0));
      expect(e).toBeInstanceOf(ArgumentError);
      return e as ArgumentError;
    };
    expect((await failure('nope')).argument).toBe('exportName');
    expect((await failure('nope')).message).toMatch(/jitter/); // lists what the module does export
    expect((await failure('notAFunction')).argument).toBe('exportName');
    expect((await failure('badLength')).argument).toBe("map 'badLength' result.x");
    expect((await failure('badType')).argument).toBe("map 'badType' result");
    expect((await failure('ragged')).argument).toBe("map 'ragged' result.x");
    expect((await failure('crop', { params: { keep: 2 }, features: 3 })).message).toMatch(/features: 3 was declared/);
  });

  it('rejects the epoch with the error a map throws, class and code kept', async () => {
    const src = synthetic(100);
    const p = make(src, { workers: 2 }).map(MAPS, 'failAt', { params: { at: 55 } }).batch(10);
    const e = await rejection(p.materialize(0));
    expect(e).toBeInstanceOf(RangeError);
    expect(e).toMatchObject({ message: 'bad row at 55', code: 'E_BAD_ROW' });

    const it = p.epoch(0);
    for (let i = 0; i < 5; i++) expect((await it.next()).value?.index).toBe(i);
    expect(await rejection(it.next())).toBeInstanceOf(RangeError);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('retries a block whose worker crashed, and reports a crash that outlives its retries', async () => {
    const src = synthetic(40);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const set = await make(src, { workers: 2, blockRows: 10 }).map(MAPS, 'crashOnce', { params: { flag } }).materialize(0);
    expect(flag[0]).toBe(1);
    expect(set).toEqual(src);

    const e = await rejection(make(src, { workers: 1, retries: 0 }).map(MAPS, 'crashAlways').materialize(0));
    expect(e).toBeInstanceOf(WorkerCrashedError);
  });

  it('close() rejects epochs in flight and kept, and everything after', async () => {
    const p = pipeline(synthetic(100), { workers: 2, blockRows: 10 }).map(MAPS, 'slow', { params: { ms: 200 } }).batch(10);
    const now = p.materialize(0);
    const early = p.materialize(1);
    const it = p.epoch(0);
    const waiting = it.next();
    await p.close();
    for (const promise of [now, early, waiting]) {
      const e = await rejection(promise);
      expect(e).toBeInstanceOf(PoolClosedError);
      expect(e).toMatchObject({ code: 'ERR_TANDEM_PIPELINE_CLOSED' });
    }
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(await rejection(p.materialize(2))).toBeInstanceOf(PoolClosedError);
    expect(await rejection(p.epoch(0).next())).toBeInstanceOf(PoolClosedError);
    await p.close(); // again: a no-op
  });
});
