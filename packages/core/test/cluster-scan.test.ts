/**
 * A shared table's group-by and count on a cluster's nodes (real `tandem worker` processes, real
 * Redis): each node reads some of flights-3m's row groups, runs the stages before the aggregation
 * (a kernel one loaded from its module), and sends back partial aggregates, which the client —
 * with no worker of its own reading rows — merges into what reading the file here gives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TaskModuleError } from '../src/index.ts';
import { distanceBandKernel } from './fixtures/cluster-tasks.ts';
import { FIXTURES_DIR, useCluster } from './helpers/cluster-nodes.ts';
import { redisOrSkip } from './helpers/redis-server.ts';

const DATA_DIR = fileURLToPath(new URL('../../../node_modules/vega-datasets/data/', import.meta.url));
const FLIGHTS = join(DATA_DIR, 'flights-3m.parquet');

/** Rows sorted by their key columns' text, numbers compared within a relative `tolerance` (partial sums add in another order). */
function expectSameGroups(got: Record<string, unknown>[], want: Record<string, unknown>[], keys: string[], tolerance = 1e-9): void {
  const byKey = (rows: Record<string, unknown>[]) => new Map(rows.map((r) => [JSON.stringify(keys.map((k) => r[k])), r]));
  const g = byKey(got);
  const w = byKey(want);
  expect([...g.keys()].sort()).toEqual([...w.keys()].sort());
  for (const [key, row] of w) {
    for (const [column, value] of Object.entries(row)) {
      const other = g.get(key)![column];
      if (typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value)) expect(Math.abs((other as number) - value), `${key} ${column}`).toBeLessThanOrEqual(tolerance * Math.abs(value));
      else expect(other, `${key} ${column}`).toEqual(value);
    }
  }
}

describe.skipIf(!redisOrSkip())('a shared table aggregated on the nodes', () => {
  // The client has no workers: every row the shared tables read is read on a node.
  const cluster = useCluster({ names: ['scan-a', 'scan-b'], nodes: { backends: 'cpu', allow: [FIXTURES_DIR, DATA_DIR, '@tandem/core'] } });
  const outside = mkdtempSync(join(tmpdir(), 'tandem-scan-'));
  afterAll(() => rmSync(outside, { recursive: true, force: true }));

  it('groups flights by origin on the nodes, as reading the file here does', async () => {
    const spec = { delay: ['mean', 'count', 'std', 'min', 'max'] as const, distance: [{ histogram: { bins: 8, range: [0, 4000] as [number, number] } }] };
    const shared = await cluster.td.read(FLIGHTS, { shared: true });
    const got = await shared.filter('delay', '>', 15).groupBy('origin').agg({ delay: [...spec.delay], distance: spec.distance }).sort('delay_count', { descending: true }).toRows();
    expect(cluster.td.lastPipelineRun()?.source).toMatch(/read and grouped on 2 nodes/);
    const local = await cluster.td.read(FLIGHTS);
    const want = await local.filter('delay', '>', 15).groupBy('origin').agg({ delay: [...spec.delay], distance: spec.distance }).sort('delay_count', { descending: true }).toRows();
    expect(cluster.td.lastPipelineRun()?.source).not.toMatch(/on 2 nodes/);
    expect(got.length).toBeGreaterThan(100);
    expectSameGroups(got, want, ['origin']);
    // The sort after the group-by ran here, on the merged groups.
    expect(got.map((r) => r.delay_count)).toEqual(want.map((r) => r.delay_count));
  }, 120_000);

  it('runs a kernel stage on the nodes, loaded from its module, before grouping by its output', async () => {
    const shared = await cluster.td.read(FLIGHTS, { shared: true });
    const got = await shared.withColumn('band', distanceBandKernel, ['distance']).groupBy('band').agg({ delay: 'mean' }).toRows();
    expect(cluster.td.lastPipelineRun()?.source).toMatch(/on 2 nodes/);
    const want = await (await cluster.td.read(FLIGHTS)).withColumn('band', distanceBandKernel, ['distance']).groupBy('band').agg({ delay: 'mean' }).toRows();
    expectSameGroups(got, want, ['band']);
    // A stage the nodes can't rebuild (a limit: the first rows of the whole file) keeps the table here.
    const here = await shared.limit(100_000).withColumn('band', distanceBandKernel, ['distance']).groupBy('band').agg({ delay: 'mean' }).toRows();
    expect(cluster.td.lastPipelineRun()?.source).not.toMatch(/on 2 nodes/);
    const first = await (await cluster.td.read(FLIGHTS)).limit(100_000).withColumn('band', distanceBandKernel, ['distance']).groupBy('band').agg({ delay: 'mean' }).toRows();
    expectSameGroups(here, first, ['band'], 0);
  }, 120_000);

  it('counts a filtered shared table on the nodes', async () => {
    const shared = await cluster.td.read(FLIGHTS, { shared: true });
    const local = await cluster.td.read(FLIGHTS);
    expect(await shared.filter('origin', '==', 'SFO').count()).toBe(await local.filter('origin', '==', 'SFO').count());
    expect(await shared.count()).toBe(3_000_000);
  }, 120_000);

  it("refuses, on the node, a file outside its --allow directories, and says so at the caller", async () => {
    const copy = join(outside, 'flights.parquet');
    await (await cluster.td.read(FLIGHTS)).limit(1_000).write(copy);
    const shared = await cluster.td.read(copy, { shared: true });
    await expect(shared.groupBy('origin').agg({ delay: 'mean' }).toRows()).rejects.toSatisfy((e: unknown) => e instanceof TaskModuleError && /refused .*flights\.parquet: not under its --allow list/.test(e.message));
  }, 120_000);
});
