/** How an epoch is cut into blocks: fixed by the configuration alone, never by the worker count, so output is reproducible. */
import { epochOrder } from './order.ts';

export interface Span {
  readonly start: number;
  readonly rows: number;
}

export interface EpochPlan {
  readonly epoch: number;
  readonly order: Int32Array | null;
  /** Rows in the epoch (fewer than the source's when a ragged last batch is dropped). */
  readonly rows: number;
  readonly blocks: readonly Span[];
}

export interface PlanConfig {
  readonly shuffleSeed: number | undefined;
  readonly batch: { readonly size: number; readonly dropRemainder: boolean } | undefined;
  readonly blockRows: number;
}

export function planEpoch(n: number, config: PlanConfig, epoch: number): EpochPlan {
  const order = config.shuffleSeed === undefined ? null : epochOrder(n, config.shuffleSeed, epoch);
  const size = config.batch?.size ?? config.blockRows;
  const rows = config.batch?.dropRemainder ? Math.floor(n / size) * size : n;
  const blocks: Span[] = [];
  for (let start = 0; start < rows; start += size) blocks.push({ start, rows: Math.min(size, rows - start) });
  return { epoch, order, rows, blocks };
}
