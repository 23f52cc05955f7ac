/**
 * Bounded memory between stages: readAhead on its own (never more than maxBytes + one batch held,
 * errors reach the consumer, breaking out stops the upstream), and a whole pipeline over an Arrow
 * stream ~10× maxQueuedBytes with a slow consumer, whose recorded peak stays within the bound.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import '@tandem/backends';
import { Tandem, Tensor } from '../src/index.ts';
import type { Batch } from '../src/data/index.ts';
import { QueueMeter, readAhead } from '../src/data/stream/read-ahead.ts';
import { dataSession, lastRun } from './data-helpers.ts';

const ROWS = 1000; // 8,000 bytes per batch
const batch = (i: number): Batch => ({ rows: ROWS, columns: new Map([['x', { type: 'float64' as const, values: Tensor.from(new Float64Array(ROWS).fill(i), [ROWS], 'float64') }]]) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('readAhead', () => {
  it('holds at most maxBytes plus one batch, and yields every batch in order', async () => {
    const meter = new QueueMeter(32_000);
    let produced = 0;
    let consumed = 0;
    let maxLead = 0;
    async function* source() {
      for (let i = 0; i < 60; i++) {
        produced++;
        maxLead = Math.max(maxLead, produced - consumed);
        yield batch(i);
      }
    }
    const seen: number[] = [];
    for await (const b of readAhead(source(), meter)) {
      consumed++;
      seen.push(b.columns.get('x')!.values.data[0]!);
      await sleep(1);
    }
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(meter.peak).toBeGreaterThanOrEqual(32_000); // it did run ahead
    expect(meter.peak).toBeLessThanOrEqual(32_000 + 8_000);
    expect(maxLead).toBeLessThanOrEqual(32_000 / 8_000 + 2); // queued + one being pulled + one with the consumer
    expect(meter.bytes).toBe(0);
  });

  it('passes an upstream error to the consumer after the batches before it', async () => {
    async function* source() {
      yield batch(0);
      yield batch(1);
      throw new RangeError('upstream broke');
    }
    const seen: number[] = [];
    await expect((async () => {
      for await (const b of readAhead(source(), new QueueMeter(1e9))) seen.push(b.columns.get('x')!.values.data[0]!);
    })()).rejects.toThrow('upstream broke');
    expect(seen).toEqual([0, 1]);
  });

  it('breaking out stops the upstream and calls its return()', async () => {
    let nexts = 0;
    let returned = 0;
    const upstream: AsyncIterable<Batch> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: batch(nexts++) }),
        return: async () => {
          returned++;
          return { done: true, value: undefined };
        },
      }),
    };
    const meter = new QueueMeter(24_000);
    let n = 0;
    for await (const _ of readAhead(upstream, meter)) if (++n === 3) break;
    expect(returned).toBe(1);
    const at = nexts;
    await sleep(20);
    expect(nexts).toBe(at); // nothing pulled after the break
    expect(nexts).toBeLessThanOrEqual(3 + 24_000 / 8_000 + 1);
    expect(meter.bytes).toBe(0);
  });
});

describe('a pipeline with a slow consumer', () => {
  const session = dataSession();
  const tmp = session.tmp;

  it('keeps the bytes queued between stages within maxQueuedBytes + one batch per pipe over a file 10× larger', async () => {
    // 64 batches × 16,384 rows × (5 float64) = 40 MiB, written as an Arrow stream.
    const path = tmp.path('big.arrows');
    const writer = arrow.RecordBatchStreamWriter.throughNode();
    const out = createWriteStream(path);
    writer.pipe(out);
    const rows = 16_384;
    for (let b = 0; b < 64; b++) {
      const cols: Record<string, Float64Array> = {};
      for (const c of ['a', 'b', 'c', 'd', 'e']) cols[c] = Float64Array.from({ length: rows }, (_, i) => b * rows + i);
      writer.write(arrow.tableFromArrays(cols).batches[0]!);
    }
    writer.end();
    await once(out, 'finish');
    const batchBytes = rows * 5 * 8;
    const max = 4 * 1024 * 1024;

    const t = (await session.td().read(path)).filter('a', '>=', 0).select('a', 'b', 'c');
    let n = 0;
    let sum = 0;
    for await (const b of t.batches({ maxQueuedBytes: max })) {
      n += b.rows;
      sum += b.columns.get('a')!.values.data[b.rows - 1]!;
      await sleep(5);
    }
    expect(n).toBe(64 * rows);
    expect(sum).toBe(Array.from({ length: 64 }, (_, b) => b * rows + rows - 1).reduce((a, v) => a + v, 0));
    const run = lastRun(session.td());
    expect(run.maxQueuedBytes).toBe(max);
    const pipes = 3; // after the read, the filter and the select
    expect(run.peakQueuedBytes).toBeGreaterThan(0);
    expect(run.peakQueuedBytes).toBeLessThanOrEqual(max + pipes * batchBytes);
    expect(run.peakQueuedBytes).toBeLessThan((64 * batchBytes) / 5);
    expect(run.pipes).toBe(pipes);
    expect(session.td().explain()).toMatch(/peak queued between stages \d+\.\d MiB \(budget 4\.0 MiB/);
  });
});
