/**
 * One kernel of the differential corpus: the kernel, its arguments and output size, how close
 * each backend must come to the float64 reference, and — only where NUMERICS.md documents it —
 * which backend refuses it and the construct its `KernelUnsupportedError` must name.
 */
import { kernel, type KernelHelper, type KernelOutput, type UserKernel, type UserKernelArg } from '@tandem/core';
import type { KernelConstant } from '@tandem/core/backend';
import { USER_KERNEL_TOLERANCE } from './tolerance.ts';

export type Tolerance = { readonly rtol: number; readonly atol: number };
export type BackendName = 'cpu' | 'gpujs';

/** `this` inside a corpus kernel; arrays are typed loosely, as gpu.js kernels read them. */
export interface K {
  readonly thread: { readonly x: number; readonly y: number; readonly z: number };
  readonly output: { readonly x: number; readonly y: number; readonly z: number };
  readonly constants: any;
}

export interface Case {
  readonly group: string;
  readonly kernel: UserKernel;
  readonly fn: (this: K, ...args: any[]) => number;
  readonly args: readonly UserKernelArg[];
  readonly output: KernelOutput;
  readonly tol: Tolerance;
  /** The float64 reference at (x, y, z); by default the kernel's own function run in float64 with a fake `this`. */
  readonly ref?: (x: number, y: number, z: number) => number;
  /** Backends that refuse this kernel (documented in NUMERICS.md), and what the refusal must name. */
  readonly refused?: Partial<Record<BackendName, RegExp>>;
  /** Also compare the sign of zeros. */
  readonly signedZero?: boolean;
  /** A backend's documented difference (NUMERICS.md): what it returns instead, checked as its reference. */
  readonly documented?: Partial<Record<BackendName, Documented>>;
}

export interface Documented {
  /** The NUMERICS.md entry this case tests. */
  readonly note: string;
  readonly ref: (x: number, y: number, z: number) => number;
}

export interface CaseOptions {
  readonly tol?: Tolerance;
  readonly ref?: Case['ref'];
  readonly refused?: Case['refused'];
  readonly constants?: Record<string, KernelConstant>;
  readonly functions?: readonly KernelHelper[];
  readonly signedZero?: boolean;
  readonly documented?: Case['documented'];
}

/** A corpus group: `add(name, fn, args, output, options)` collects its cases. */
export function group(name: string, build: (add: (kernelName: string, fn: (this: K, ...args: any[]) => number, args: readonly UserKernelArg[], output: KernelOutput, options?: CaseOptions) => void) => void): Case[] {
  const cases: Case[] = [];
  build((kernelName, fn, args, output, options = {}) => {
    const k = kernel(`${name}_${kernelName}`, fn as never, { constants: options.constants ?? {}, functions: options.functions ?? [] });
    cases.push({
      group: name,
      kernel: k,
      fn,
      args,
      output,
      tol: options.tol ?? USER_KERNEL_TOLERANCE.arithmetic,
      ...(options.ref ? { ref: options.ref } : {}),
      ...(options.refused ? { refused: options.refused } : {}),
      ...(options.signedZero ? { signedZero: true } : {}),
      ...(options.documented ? { documented: options.documented } : {}),
    });
  });
  return cases;
}

/** Deterministic values in [lo, hi) (an LCG: the corpus needs variety, not statistics). */
export function values(n: number, seed: number, lo = -4, hi = 4): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround(lo + (s / 4294967296) * (hi - lo));
  });
}

/** `values` as a rows × cols nested array. */
export function matrix(rows: number, cols: number, seed: number, lo = -4, hi = 4): number[][] {
  const flat = values(rows * cols, seed, lo, hi);
  return Array.from({ length: rows }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
}
