import type { DType, Tensor } from '../tensor/tensor.ts';

/** Half-open range of flat indices, `[start, end)`. */
export interface IndexRange {
  readonly start: number;
  readonly end: number;
}

/**
 * How a kernel's work splits into independent sub-ranges, so several devices can share one call:
 * - `map`: each output element depends only on inputs; a range of the output is computed alone.
 * - `reduce`: a range of the input gives a partial result (`run` returns it); `merge` combines them.
 * - `scan`: a range of the input is scanned locally into the same range of the output; `merge`
 *   adds the carries.
 * - `sort`: a range is sorted in place in the output; `merge` merges the sorted runs.
 */
export type SplitKind = 'map' | 'reduce' | 'scan' | 'sort';

/** A positional kernel argument: a tensor or a scalar. */
export type KernelArg = Tensor | number;

/** A value a user kernel reads as `this.constants.<name>`: a number, a boolean, or a (nested) array of numbers. */
export type KernelConstant = number | boolean | readonly number[] | readonly (readonly number[])[] | readonly (readonly (readonly number[])[])[];

/** A user kernel: one JS function in gpu.js's dialect, run as JS on the CPU and as a shader on the GPU. */
export interface UserKernelSource {
  readonly name: string;
  /** `fn.toString()` of the kernel function. */
  readonly source: string;
  /** Values the function reads as `this.constants.<name>`. */
  readonly constants: Readonly<Record<string, KernelConstant>>;
  /** Sources of named helper functions the kernel may call (gpu.js's `addFunction`). */
  readonly functions?: readonly string[];
  /** The module that exports the kernel (a file URL or package specifier), where a cluster's nodes load it. */
  readonly module?: string;
  /**
   * Set per call by `userCall`: positions of arguments passed as booleans. They travel as 0/1
   * (a `KernelArg` is a number) and each backend shows them to the kernel as booleans again.
   */
  readonly booleanArgs?: readonly number[];
}

/** One invocation of a kernel, as every backend receives it. */
export interface KernelCall {
  readonly kernel: string;
  readonly args: readonly KernelArg[];
  /** Named scalar parameters (e.g. `bins`, `lo`, `hi` of histogram). */
  readonly params: Readonly<Record<string, number>>;
  /** Preallocated on shared memory; a backend writes its results here. */
  readonly output: Tensor;
  /** Set for user kernels. */
  readonly user?: UserKernelSource;
}

/** A reduce kernel's result over one input range: plain numbers, merged on the host. */
export type PartialResult = number[];

/** Everything the session knows of a kernel besides its per-backend code. */
export interface KernelSpec {
  readonly name: string;
  readonly split: SplitKind;
  /** Number of tensor and scalar args; `checkCall` enforces it. -1: any number (user kernels). */
  readonly arity: number;
  /** Dtypes a tensor argument may have; `checkCall` enforces them before `output`. Default `['float32']`. */
  readonly dtypes?: readonly DType[];
  /** Names of the scalar parameters an op passes from its options (histogram: `bins`, `lo`, `hi`). Default none. */
  readonly params?: readonly string[];
  /**
   * The shape rule: checks args/params (clear errors naming the argument) and returns the output's
   * shape and dtype.
   */
  output(args: readonly KernelArg[], params: Readonly<Record<string, number>>): { shape: number[]; dtype: DType };
  /**
   * For kernels whose output the caller sizes (user kernels): checks the call and its given
   * output in place of `output`, which such a kernel cannot answer.
   */
  checkOutput?(call: KernelCall): void;
  /** Length of the index space that ranges refer to (output elements for map, input elements otherwise). */
  extent(call: KernelCall): number;
  /** Ranges given to a backend start and end at multiples of this (or at the extent): whole rows for matmul. Default 1. */
  align?(call: KernelCall): number;
  /** Work estimate for the planner: floating-point operations and bytes touched, for the range. */
  cost(call: KernelCall, range: IndexRange): { flops: number; bytes: number };
  /** Combines per-range results into `call.output` (reduce, scan and sort kernels). */
  merge?(call: KernelCall, ranges: readonly IndexRange[], partials: readonly (PartialResult | undefined)[]): void;
}
