/**
 * The float64 reference of a corpus case: its `ref`, or the kernel's own function run as plain JS
 * in float64 with a fake `this`, over arguments as the backends hold them (float32 values).
 */
import { Tensor, type UserKernelArg } from '@tandem/core';
import type { Case } from './case.ts';

export function reference(c: Case, at: Case['ref'] = c.ref): Float64Array {
  const [X, Y = 1, Z = 1] = c.output;
  const out = new Float64Array(X * Y * Z);
  const thread = { x: 0, y: 0, z: 0 };
  const self = { thread, output: { x: X, y: Y, z: Z }, constants: c.kernel.constants };
  const args = c.args.map(asJs);
  let i = 0;
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    thread.x = x;
    thread.y = y;
    thread.z = z;
    out[i++] = at ? at(x, y, z) : c.fn.call(self, ...args);
  }
  return out;
}

/** An argument as the kernel sees it, with the float32 rounding every backend applies. */
function asJs(a: UserKernelArg): unknown {
  if (typeof a === 'boolean') return a;
  if (typeof a === 'number') return Math.fround(a);
  if (a instanceof Tensor) return nest(Array.from(a.data as Float32Array), a.shape);
  if (ArrayBuffer.isView(a)) return Array.from(a as unknown as ArrayLike<number>, Math.fround);
  return (a as unknown[]).map((v) => asJs(v as UserKernelArg));
}

function nest(flat: number[], shape: readonly number[]): unknown {
  if (shape.length <= 1) return flat;
  const inner = shape.slice(1).reduce((p, d) => p * d, 1);
  return Array.from({ length: shape[0]! }, (_, r) => nest(flat.slice(r * inner, (r + 1) * inner), shape.slice(1)));
}
