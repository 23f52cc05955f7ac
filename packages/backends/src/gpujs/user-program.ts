/**
 * A user kernel as a gpu.js program that can run over any whole-row (2-D) or whole-plane (3-D)
 * sub-range of its output: the outermost thread index is shifted by a runtime argument, and the
 * outermost output size — which gpu.js would report as the sub-range's — reads the full one.
 *
 * Both are integer arguments, not constants: gpu.js bakes constants into the WGSL, so every new
 * split of the work would compile a new shader, and its float arithmetic on `this.thread.x +
 * constant` loses indices past 2^24.
 */
import { ArgumentError, Tensor, type KernelArg, type UserKernelSource } from '@tandem/core';
import type { Program } from './kernels.ts';

export const OFFSET_ARG = 'tandemOffset';
export const OUTER_ARG = 'tandemOuter';

const AXES = ['x', 'y', 'z'] as const;

/**
 * Rewrites `source` so its outermost axis (`x` for rank 1, `y` for 2, `z` for 3) starts at
 * `tandemOffset` and `this.output.<axis>` reads `tandemOuter`; both become trailing parameters.
 *
 * @example
 * ```ts
 * offsetSource('function (a) { return a[this.thread.y][this.thread.x]; }', 2);
 * // 'function (a, tandemOffset, tandemOuter) { return a[(this.thread.y + tandemOffset)][this.thread.x]; }'
 * ```
 */
export function offsetSource(source: string, rank: 1 | 2 | 3): string {
  for (const name of [OFFSET_ARG, OUTER_ARG]) {
    if (new RegExp(`\\b${name}\\b`).test(source)) throw new ArgumentError('kernel source', `no identifier named '${name}' (the gpujs backend adds it)`, name);
  }
  const header = /^(\s*function\b[^(]*\()([^)]*)\)/.exec(source);
  if (!header) throw new ArgumentError('kernel source', 'a `function (...) { ... }` expression', source.slice(0, 40));
  const params = header[2]!.trim() === '' ? `${OFFSET_ARG}, ${OUTER_ARG}` : `${header[2]}, ${OFFSET_ARG}, ${OUTER_ARG}`;
  const axis = AXES[rank - 1];
  const body = source
    .slice(header[0].length)
    .replace(new RegExp(`\\bthis\\s*\\.\\s*thread\\s*\\.\\s*${axis}\\b`, 'g'), `(this.thread.${axis} + ${OFFSET_ARG})`)
    .replace(new RegExp(`\\bthis\\s*\\.\\s*output\\s*\\.\\s*${axis}\\b`, 'g'), OUTER_ARG);
  return `${header[1]}${params})${body}`;
}

/**
 * The program for a user kernel with these arguments and output rank. One program serves every
 * sub-range and every argument size: gpu.js reads array sizes from a uniform at run time.
 */
export function userProgram(user: UserKernelSource, args: readonly KernelArg[], rank: 1 | 2 | 3): Program {
  const argumentTypes = args.map((a, i) => {
    if (a instanceof Tensor) return 'WebGPUBuffer';
    if (typeof a === 'number') return 'Float';
    throw new ArgumentError(`args[${i}]`, 'a Tensor or a number', a);
  });
  const constants = { ...user.constants };
  return {
    key: `user:${rank}:${argumentTypes.join(',')}:${JSON.stringify(constants)}:${user.source}`,
    name: user.name,
    source: offsetSource(user.source, rank),
    argumentTypes: [...argumentTypes, 'Integer', 'Integer'],
    constants,
  };
}
