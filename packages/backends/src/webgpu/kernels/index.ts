/** Which driver computes each built-in kernel. */
import { BINARY_KERNELS, REDUCE_KERNELS, UNARY_KERNELS } from '@tandem/core/backend';
import type { Driver } from './common.ts';
import { runConv2d } from './conv2d.ts';
import { runElementwise } from './elementwise.ts';
import { runHistogram } from './histogram.ts';
import { runMatmul } from './matmul.ts';
import { runReduce } from './reduce.ts';
import { runCumsum } from './scan.ts';
import { runSort } from './sort.ts';

export const DRIVERS: ReadonlyMap<string, Driver> = new Map<string, Driver>([
  ...UNARY_KERNELS.map((k) => [k, runElementwise] as const),
  ...BINARY_KERNELS.map((k) => [k, runElementwise] as const),
  ['saxpy', runElementwise],
  ...REDUCE_KERNELS.map((k) => [k, runReduce] as const),
  ['matmul', runMatmul],
  ['conv2d', runConv2d],
  ['histogram', runHistogram],
  ['cumsum', runCumsum],
  ['sort', runSort],
]);
