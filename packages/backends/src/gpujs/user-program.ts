/**
 * A user kernel as a gpu.js program that can run over any whole-row (2-D) or whole-plane (3-D)
 * sub-range of its output: the outermost thread index is shifted by a runtime argument, and the
 * outermost output size — which gpu.js would report as the sub-range's — reads the full one.
 *
 * Both are integer arguments, not constants: gpu.js bakes constants into the WGSL, so every new
 * split of the work would compile a new shader, and its float arithmetic on `this.thread.x +
 * constant` loses indices past 2^24.
 */
import { ArgumentError, Tensor, type KernelArg, type UserKernelSource } from '@tandem/core/backend';
import type { Program } from './kernels.ts';
import { OFFSET_ARG, OUTER_ARG, prepareKernel } from './prepare.ts';

export { OFFSET_ARG, OUTER_ARG };

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
  return prepareKernel('kernel', source, [], rank).source;
}

/**
 * The program for a user kernel with these arguments and output rank. One program serves every
 * sub-range and every argument size: gpu.js reads array sizes from a uniform at run time.
 */
export function userProgram(user: UserKernelSource, args: readonly KernelArg[], rank: 1 | 2 | 3): Program {
  const booleans = new Set(user.booleanArgs ?? []);
  const argumentTypes = args.map((a, i) => {
    if (a instanceof Tensor) return 'WebGPUBuffer';
    if (typeof a === 'number') return booleans.has(i) ? 'Boolean' : 'Float';
    throw new ArgumentError(`args[${i}]`, 'a Tensor or a number', a);
  });
  const constants = { ...user.constants };
  const { source, functions } = prepareKernel(user.name, user.source, user.functions ?? [], rank);
  return {
    key: `user:${rank}:${argumentTypes.join(',')}:${JSON.stringify(constants)}:${source}:${functions.join('\n')}`,
    name: user.name,
    user: true,
    source,
    argumentTypes: [...argumentTypes, 'Integer', 'Integer'],
    constants,
    functions,
  };
}
