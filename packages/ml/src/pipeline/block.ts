/**
 * Maps one block: gathers its rows in the epoch's order, runs the chain of maps, and writes the
 * result into the epoch's output (or onto shared memory of its own). Runs in a worker thread,
 * or on the main thread when a pipeline has no workers.
 */
import { basename } from 'node:path';
import { ArgumentError } from '@tandem/core';
import type { BlockTask, BlockResult, MapStep } from './block-task.ts';
import { rowRandom } from './order.ts';
import type { MapBlock, MapFunction, MapResult } from './types.ts';
import { sharedBuffer } from '@tandem/core/internal/tensor/shared-memory';

const modules = new Map<string, Promise<Record<string, unknown>>>();

async function loadMap(step: MapStep, index: number): Promise<MapFunction> {
  let loaded = modules.get(step.href);
  if (!loaded) {
    loaded = import(step.href) as Promise<Record<string, unknown>>;
    modules.set(step.href, loaded);
  }
  const mod = await loaded;
  const fn = mod[step.exportName];
  if (typeof fn !== 'function') {
    const names = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new ArgumentError('exportName',
      `a function exported by ${basename(step.href)} (map #${index}); its function exports: ${names.length ? names.join(', ') : 'none'}`,
      step.exportName);
  }
  return fn as MapFunction;
}

interface Rows {
  x: Float32Array;
  y: Int32Array;
}

function sharedRows(rows: number, features: number): Rows {
  return {
    x: new Float32Array(sharedBuffer(rows * features * Float32Array.BYTES_PER_ELEMENT)),
    y: new Int32Array(sharedBuffer(rows * Int32Array.BYTES_PER_ELEMENT)),
  };
}

function gather(task: BlockTask, into: Rows, sourceRows: Int32Array): void {
  const { features: f, start, rows, order } = task;
  if (!order) {
    into.x.set(task.x.subarray(start * f, (start + rows) * f));
    into.y.set(task.y.subarray(start, start + rows));
    for (let i = 0; i < rows; i++) sourceRows[i] = start + i;
    return;
  }
  for (let i = 0; i < rows; i++) {
    const r = order[start + i]!;
    sourceRows[i] = r;
    into.y[i] = task.y[r]!;
    into.x.set(task.x.subarray(r * f, r * f + f), i * f);
  }
}

function checkResult(result: unknown, step: MapStep, rows: number): { x: Float32Array; y: Int32Array | undefined; features: number } {
  const name = `map '${step.exportName}' result`;
  if (typeof result !== 'object' || result === null || !((result as MapResult).x instanceof Float32Array)) {
    throw new ArgumentError(name, 'an object { x: Float32Array, y?: Int32Array }', result);
  }
  const { x, y } = result as MapResult;
  if (x.length === 0 || x.length % rows !== 0) {
    throw new ArgumentError(`${name}.x`, `rows × features values with ${rows} rows in the block`, `${x.length} values`);
  }
  const features = x.length / rows;
  if (step.features !== undefined && features !== step.features) {
    throw new ArgumentError(`${name}.x`, `${rows} × ${step.features} values (features: ${step.features} was declared)`, `${rows} × ${features}`);
  }
  if (y !== undefined && (!(y instanceof Int32Array) || y.length !== rows)) {
    throw new ArgumentError(`${name}.y`, `an Int32Array of ${rows} labels, or no y`, y);
  }
  return { x, y, features };
}

/** Maps one block; see {@link BlockTask}. */
export async function runBlock(task: BlockTask): Promise<BlockResult> {
  const { rows } = task;
  const sourceRows = new Int32Array(rows);
  if (task.maps.length === 0) {
    // Nothing to map: gather straight into the destination.
    const into = task.out ?? sharedRows(rows, task.features);
    gather(task, into, sourceRows);
    return task.out ? { features: task.features } : { features: task.features, ...into };
  }
  let cur: Rows = { x: new Float32Array(rows * task.features), y: new Int32Array(rows) };
  gather(task, cur, sourceRows);
  let features = task.features;
  for (const [k, step] of task.maps.entries()) {
    const fn = await loadMap(step, k);
    const block: MapBlock = {
      x: cur.x, y: cur.y, rows, features, epoch: task.epoch, seed: task.seed, start: task.start, sourceRows, params: step.params,
      random: (row) => rowRandom(task.seed, task.epoch, task.start + row, k),
    };
    const checked = checkResult(await fn(block), step, rows);
    cur = { x: checked.x, y: checked.y ?? cur.y };
    features = checked.features;
  }
  const out = task.out;
  if (!out) {
    const shared = sharedRows(rows, features);
    shared.x.set(cur.x);
    shared.y.set(cur.y);
    return { features, ...shared };
  }
  if (out.x.length !== rows * features) {
    const last = task.maps[task.maps.length - 1]!;
    throw new ArgumentError(`map '${last.exportName}' result.x`,
      `${rows} × ${out.x.length / rows} values: the same number of features for every block`, `${rows} × ${features}`);
  }
  out.x.set(cur.x);
  out.y.set(cur.y);
  return { features };
}
