/**
 * Polars (nodejs-polars) as a peer of the data bench: its own file, loaded only when the run asks
 * for it (see data-peer-duckdb.ts).
 */
import { readFileSync } from 'node:fs';
import pl from 'nodejs-polars';
import { greatCircleKm, type DataFiles, type DataPeer, type Variant } from './data-peers.ts';

export async function polarsPeer(files: DataFiles): Promise<DataPeer> {
  const airports = pl.readCSV(readFileSync(files.airports, 'utf8')).select('iata', 'latitude', 'longitude');
  const origins = airports.rename({ latitude: 'lat1', longitude: 'lon1' });
  const dests = airports.rename({ latitude: 'lat2', longitude: 'lon2' });
  let memory: pl.DataFrame | undefined;
  let joinedMemory: pl.DataFrame | undefined;
  const kmOf = (df: pl.DataFrame) => df.select('lat1', 'lon1', 'lat2', 'lon2').toStruct('r')
    .mapElements((r: { lat1: number; lon1: number; lat2: number; lon2: number }) => greatCircleKm(r.lat1, r.lon1, r.lat2, r.lon2));
  const lazy = (variant: Variant) => (variant === 'file' ? pl.scanParquet(files.flights) : memory!.lazy());
  /** Joins both airports, then runs the user function over a struct of the four columns. */
  const withKm = async (variant: Variant) => {
    const joined = await lazy(variant)
      .join(origins.lazy(), { leftOn: 'origin', rightOn: 'iata' })
      .join(dests.lazy(), { leftOn: 'destination', rightOn: 'iata' })
      .collect();
    return joined.withColumn(kmOf(joined).cast(pl.Float64).alias('km'));
  };
  return {
    id: 'polars',
    name: 'Polars',
    label: 'Polars (struct mapElements)',
    userJs: true,
    queries: ['load', 'groupby', 'filter', 'udf', 'kmOnly', 'pipeline'],
    async loadMemory() {
      memory = pl.readParquet(files.flights);
      joinedMemory = (await memory.lazy().join(origins.lazy(), { leftOn: 'origin', rightOn: 'iata' }).join(dests.lazy(), { leftOn: 'destination', rightOn: 'iata' }).collect())
        .select('lat1', 'lon1', 'lat2', 'lon2');
    },
    async run(query, variant) {
      switch (query) {
        case 'load':
          return { rows: pl.readParquet(files.flights).height };
        case 'groupby': {
          const df = await lazy(variant).groupBy('origin').agg(pl.col('delay').mean()).collect();
          return { groups: df.height, sum: df.getColumn('delay').sum() as number };
        }
        case 'filter': {
          const df = await lazy(variant).filter(pl.col('delay').gt(15)).select(pl.len().alias('n')).collect();
          return { rows: Number(df.getColumn('n').get(0)) };
        }
        case 'udf': {
          const df = await withKm(variant);
          return { rows: df.height, sum: df.getColumn('km').sum() as number };
        }
        case 'kmOnly': {
          const km = kmOf(joinedMemory!).cast(pl.Float64);
          return { rows: km.length, sum: km.sum() as number };
        }
        case 'pipeline': {
          const df = (await withKm(variant)).groupBy(['origin', 'destination'])
            .agg(pl.col('delay').mean().alias('delay_mean'), pl.len().alias('n'), pl.col('km').mean().alias('km_mean'))
            .sort('n', true).head(10);
          const rows = df.toRecords() as { origin: string; destination: string; n: number | bigint; km_mean: number }[];
          return { top: rows.map((r) => `${r.origin}-${r.destination} ${Number(r.n)}`), topKm: rows[0]!.km_mean };
        }
      }
    },
    async close() {},
  };
}

