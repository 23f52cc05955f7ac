/**
 * What the main thread sends to a worker for one chunk of a kernel call. Tensors travel on shared
 * memory (thread pools); `out` is the tensor the chunk writes into, or null when the pool's
 * workers are processes, whose copies of a tensor would overwrite each other's chunks: then the
 * chunk returns its slice and the main thread places it.
 */
import type { Tensor, UserKernelSource } from '@tandem/core/backend';

/** Which matmul code the workers run; see {@link CpuBackendOptions.matmul}. */
export type MatmulEngine = 'wasm-simd' | 'tfjs-wasm' | 'js';

/** Computes output elements [start, end) of a map kernel (built-in or user). */
export interface MapTask {
  readonly op: 'map';
  readonly kernel: string;
  readonly args: readonly (Tensor | number)[];
  readonly params: Readonly<Record<string, number>>;
  readonly outShape: readonly number[];
  readonly out: Tensor | null;
  readonly start: number;
  readonly end: number;
  readonly user?: UserKernelSource;
  readonly matmul?: MatmulEngine;
}

/** Reduces input elements [start, end) to a partial (sum/min/max/mean: `[value]`, histogram: counts). */
export interface ReduceTask {
  readonly op: 'reduce';
  readonly kernel: string;
  readonly x: Tensor;
  readonly params: Readonly<Record<string, number>>;
  readonly start: number;
  readonly end: number;
}

/** Inclusive prefix sums of x[start, end), each plus `offset`, into out[start, end). */
export interface ScanTask {
  readonly op: 'scan';
  readonly x: Tensor;
  readonly out: Tensor | null;
  readonly start: number;
  readonly end: number;
  readonly offset: number;
}

/** Sorts x[start, end) ascending, NaN last, into out[outStart, outStart + end - start). */
export interface SortTask {
  readonly op: 'sort';
  readonly x: Tensor;
  readonly start: number;
  readonly end: number;
  readonly out: Tensor | null;
  readonly outStart: number;
}

/**
 * Writes elements [d0, d1) of the merge of the sorted runs [aStart, aEnd) and [aEnd, bEnd) into
 * [aStart + d0, aStart + d1): one worker's share of a merge split along merge-path diagonals.
 * Positions are relative: position p is src[srcAt + p] and dst[dstAt + p].
 */
export interface MergeTask {
  readonly op: 'merge';
  readonly src: Tensor;
  readonly srcAt: number;
  readonly dst: Tensor | null;
  readonly dstAt: number;
  readonly aStart: number;
  readonly aEnd: number;
  readonly bEnd: number;
  readonly d0: number;
  readonly d1: number;
}

export type ChunkTask = MapTask | ReduceTask | ScanTask | SortTask | MergeTask;

/** A reduce task's partial, a copy-mode task's slice, or nothing (written in place). */
export type ChunkResult = number[] | Float32Array | undefined;
