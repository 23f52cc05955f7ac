/**
 * DuckDB (@duckdb/node-api) as a peer of the data bench: its own file, loaded only when the run
 * asks for it, so the bench runs where DuckDB's native binding isn't installed (the device kit).
 */
import { DuckDBInstance, DuckDBScalarFunction, DOUBLE, type DuckDBConnection } from '@duckdb/node-api';
import { greatCircleKm, R_KM, type DataFiles, type DataPeer, type Variant } from './data-peers.ts';

const KM_SQL = `2 * ${R_KM} * asin(sqrt(sin(radians(d.latitude - o.latitude) / 2) ^ 2 + cos(radians(o.latitude)) * cos(radians(d.latitude)) * sin(radians(d.longitude - o.longitude) / 2) ^ 2))`;

async function duckdbConnection(files: DataFiles): Promise<{ con: DuckDBConnection; close(): void }> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  // A JS scalar UDF: DuckDB calls it per vector (2,048 rows) on the JS thread; it reads and writes each row.
  con.registerScalarFunction(DuckDBScalarFunction.create({
    name: 'km',
    returnType: DOUBLE,
    parameterTypes: [DOUBLE, DOUBLE, DOUBLE, DOUBLE],
    mainFunction: (_info, input, output) => {
      const a = input.getColumnVector(0), b = input.getColumnVector(1), c = input.getColumnVector(2), d = input.getColumnVector(3);
      for (let r = 0; r < input.rowCount; r++) {
        output.setItem(r, greatCircleKm(a.getItem(r) as number, b.getItem(r) as number, c.getItem(r) as number, d.getItem(r) as number));
      }
      output.flush();
    },
  }));
  await con.run(`CREATE TABLE airports AS SELECT iata, latitude, longitude FROM read_csv('${files.airports}')`);
  return { con, close: () => { con.closeSync(); instance.closeSync(); } };
}

/** DuckDB; `udf: 'js'` computes km with the JS scalar UDF, `'sql'` with a SQL expression (not user JS). */
export async function duckdbPeer(files: DataFiles, udf: 'js' | 'sql'): Promise<DataPeer> {
  const { con, close } = await duckdbConnection(files);
  const from = (variant: Variant) => (variant === 'file' ? `'${files.flights}'` : 'flights');
  const km = udf === 'js' ? 'km(o.latitude, o.longitude, d.latitude, d.longitude)' : KM_SQL;
  const joined = (variant: Variant) => `${from(variant)} f JOIN airports o ON f.origin = o.iata JOIN airports d ON f.destination = d.iata`;
  const rowsOf = async (sql: string) => (await con.runAndReadAll(sql)).getRows();
  return {
    id: udf === 'js' ? 'duckdb' : 'duckdb-sql',
    name: 'DuckDB',
    label: udf === 'js' ? 'DuckDB (JS scalar UDF)' : 'DuckDB, km as SQL expression (not user JS)',
    userJs: udf === 'js',
    queries: udf === 'js' ? ['load', 'groupby', 'filter', 'udf', 'kmOnly', 'pipeline'] : ['udf', 'kmOnly', 'pipeline'],
    async loadMemory() {
      await con.run(`CREATE OR REPLACE TABLE flights AS SELECT * FROM '${files.flights}'`);
      await con.run(`CREATE OR REPLACE TABLE joined AS SELECT o.latitude AS lat1, o.longitude AS lon1, d.latitude AS lat2, d.longitude AS lon2 FROM ${joined('memory')}`);
    },
    async run(query, variant) {
      switch (query) {
        case 'load': {
          // Materialised in DuckDB's own (in-memory) storage, as a DuckDB user loads a file.
          await con.run(`CREATE OR REPLACE TABLE load_probe AS SELECT * FROM '${files.flights}'`);
          const n = (await rowsOf('SELECT count(*) FROM load_probe'))[0]![0];
          await con.run('DROP TABLE load_probe');
          return { rows: Number(n) };
        }
        case 'groupby': {
          const rows = await rowsOf(`SELECT origin, avg(delay) FROM ${from(variant)} GROUP BY origin`);
          return { groups: rows.length, sum: rows.reduce((s, r) => s + Number(r[1]), 0) };
        }
        case 'filter': {
          const n = (await rowsOf(`SELECT count(*) FROM ${from(variant)} WHERE delay > 15`))[0]![0];
          return { rows: Number(n) };
        }
        case 'udf': {
          const [n, sum] = (await rowsOf(`SELECT count(*), sum(${km}) FROM ${joined(variant)}`))[0]!;
          return { rows: Number(n), sum: Number(sum) };
        }
        case 'kmOnly': {
          const expr = udf === 'js' ? 'km(lat1, lon1, lat2, lon2)' : KM_SQL.replace(/o\.latitude/g, 'lat1').replace(/o\.longitude/g, 'lon1').replace(/d\.latitude/g, 'lat2').replace(/d\.longitude/g, 'lon2');
          const [n, sum] = (await rowsOf(`SELECT count(*), sum(${expr}) FROM joined`))[0]!;
          return { rows: Number(n), sum: Number(sum) };
        }
        case 'pipeline': {
          const top = await rowsOf(`SELECT f.origin, f.destination, avg(f.delay), count(*) AS n, avg(${km}) FROM ${joined(variant)}
            GROUP BY f.origin, f.destination ORDER BY n DESC LIMIT 10`);
          return { top: top.map((r) => `${String(r[0])}-${String(r[1])} ${Number(r[3])}`), topKm: Number(top[0]![4]) };
        }
      }
    },
    async close() {
      close();
    },
  };
}

