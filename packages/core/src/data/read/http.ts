/** Reading data files over http(s): a response that isn't the file is an error naming the URL, never a parse of an error page. */
import { Readable } from 'node:stream';
import { DataFormatError } from '../../errors.ts';

/** The body of `url` as a Node stream; throws DataFormatError for a failed request or status. */
export async function fetchBody(url: string): Promise<Readable> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new DataFormatError(url, `can't be fetched: ${(error as Error).message}`, {}, error);
  }
  if (!response.ok || !response.body) throw new DataFormatError(url, `the server answered HTTP ${response.status} ${response.statusText}`);
  return Readable.fromWeb(response.body as never);
}

/**
 * Checks that `url` answers and ends with Parquet's magic bytes before parquet-wasm reads it:
 * given a 404 page or another file, parquet-wasm traps ('unreachable') with its promise never
 * settling, which would hang the caller.
 */
export async function checkParquetUrl(url: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { Range: 'bytes=-4' } });
  } catch (error) {
    throw new DataFormatError(url, `can't be fetched: ${(error as Error).message}`, {}, error);
  }
  if (!response.ok) throw new DataFormatError(url, `the server answered HTTP ${response.status} ${response.statusText}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const tail = new TextDecoder().decode(bytes.subarray(Math.max(0, bytes.length - 4)));
  if (tail !== 'PAR1') throw new DataFormatError(url, 'is not a Parquet file (it does not end with PAR1)');
  if (response.status !== 206) throw new DataFormatError(url, 'the server does not answer range requests, which reading Parquet over http needs (download the file and read the path)');
}
