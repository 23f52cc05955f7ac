/**
 * Tables on a cluster session: the file is read and decoded where it is (the client's own worker,
 * even with `workers: 0`), and `mapBatches` stages spread their batches over the nodes as jobs,
 * the columns travelling as blobs.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/index.ts';
import { anonymousBandKernel, latitudeBandKernel } from './fixtures/cluster-tasks.ts';
import { CLUSTER_TASKS, FIXTURES_DIR, useCluster } from './helpers/cluster-nodes.ts';
import { redisOrSkip } from './helpers/redis-server.ts';

const AIRPORTS = new URL('../../../node_modules/vega-datasets/data/airports.csv', import.meta.url);
const FLIGHTS = new URL('../../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url);

describe.skipIf(!redisOrSkip())('tables on a cluster session', () => {
  // Nodes with a CPU backend (they run kernels), allowing the fixtures and Tandem's own kernel task.
  const cluster = useCluster({ names: ['data-a', 'data-b'], nodes: { backends: 'cpu', allow: [FIXTURES_DIR, '@tandem/core'] } });

  it('mapBatches runs its batches on the nodes, every row once, in order', async () => {
    const airports = await cluster.td.read(AIRPORTS, { batchRows: 400 });
    const out = await airports.select('iata', 'latitude')
      .mapBatches(CLUSTER_TASKS, 'latitudeBand', { output: { band: 'int32', node: 'int32' } })
      .toRows();
    const local = await (await cluster.td.read(AIRPORTS)).select('iata', 'latitude').toRows();
    expect(out).toHaveLength(local.length);
    expect(out.map((r) => r.iata)).toEqual(local.map((r) => r.iata));
    for (const [i, r] of out.entries()) expect(r.band, `row ${i}`).toBe(Math.floor((local[i]!.latitude as number) / 10));
    // 9 batches, 4 in flight, each node one job at a time: both nodes ran some; the client none.
    const ran = new Set(out.map((r) => r.node));
    expect([...ran].sort()).toEqual(cluster.nodes.map((n) => n.pid).sort());
  }, 60_000);

  it('kernel stages run on the nodes when the client has no device, the kernel loaded from the module it names', async () => {
    const airports = await cluster.td.read(AIRPORTS, { batchRows: 400 });
    const out = await airports.select('iata', 'latitude').withColumn('band', latitudeBandKernel, ['latitude']).toRows();
    const local = await (await cluster.td.read(AIRPORTS)).select('iata', 'latitude').toRows();
    expect(out.map((r) => r.iata)).toEqual(local.map((r) => r.iata));
    // The kernel reads float32 columns: its band is that of the latitude rounded to float32.
    for (const [i, r] of out.entries()) expect(r.band, `row ${i}`).toBe(Math.floor(Math.fround(local[i]!.latitude as number) / 10));
    // A kernel that doesn't name its module can't run anywhere: the client says so.
    await expect(airports.withColumn('band', anonymousBandKernel, ['latitude']).count()).rejects.toSatisfy((e: unknown) => e instanceof ArgumentError && e.argument === 'kernel' && /import\.meta\.url/.test(e.message));
  }, 60_000);

  it('reads Parquet on the client\'s own worker, not on nodes that may not have the file', async () => {
    // Nodes allow only the fixtures directory: a decode task sent to them would be refused.
    const flights = await cluster.td.read(FLIGHTS);
    const late = await flights.select('delay').filter('delay', '>', 15).limit(1_000).count();
    expect(late).toBe(1_000);
  }, 60_000);
});
