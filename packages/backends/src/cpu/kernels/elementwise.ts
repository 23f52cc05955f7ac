/**
 * Elementwise kernels over views of one chunk. Each op has its own loop (not a shared loop over a
 * callback) so every loop stays monomorphic and V8 compiles it to straight-line code. Values are
 * computed in float64 and rounded once when stored into the Float32Array, as the contract says.
 */

type F32 = Float32Array;

export const UNARY: Record<string, (x: F32, o: F32) => void> = {
  neg(x, o) {
    for (let i = 0; i < o.length; i++) o[i] = -x[i]!;
  },
  abs(x, o) {
    for (let i = 0; i < o.length; i++) o[i] = Math.abs(x[i]!);
  },
  exp(x, o) {
    for (let i = 0; i < o.length; i++) o[i] = Math.exp(x[i]!);
  },
  log(x, o) {
    for (let i = 0; i < o.length; i++) o[i] = Math.log(x[i]!);
  },
  sqrt(x, o) {
    for (let i = 0; i < o.length; i++) o[i] = Math.sqrt(x[i]!);
  },
  relu(x, o) {
    // `v > 0 ? v : 0` would turn NaN into 0; NaN must pass through.
    for (let i = 0; i < o.length; i++) {
      const v = x[i]!;
      o[i] = v > 0 || v !== v ? v : 0;
    }
  },
  sigmoid(x, o) {
    for (let i = 0; i < o.length; i++) o[i] = 1 / (1 + Math.exp(-x[i]!));
  },
  tanh(x, o) {
    for (let i = 0; i < o.length; i++) o[i] = Math.tanh(x[i]!);
  },
};

const maxNaN = (a: number, b: number) => (a !== a || b !== b ? NaN : Math.max(a, b));
const minNaN = (a: number, b: number) => (a !== a || b !== b ? NaN : Math.min(a, b));

/** Binary ops with a tensor on the right. */
export const BINARY: Record<string, (x: F32, y: F32, o: F32) => void> = {
  add(x, y, o) {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! + y[i]!;
  },
  sub(x, y, o) {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! - y[i]!;
  },
  mul(x, y, o) {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! * y[i]!;
  },
  div(x, y, o) {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! / y[i]!;
  },
  maximum(x, y, o) {
    for (let i = 0; i < o.length; i++) o[i] = maxNaN(x[i]!, y[i]!);
  },
  minimum(x, y, o) {
    for (let i = 0; i < o.length; i++) o[i] = minNaN(x[i]!, y[i]!);
  },
};

/** Binary ops with a scalar on the right. */
export const BINARY_SCALAR: Record<string, (x: F32, s: number, o: F32) => void> = {
  add(x, s, o) {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! + s;
  },
  sub(x, s, o) {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! - s;
  },
  mul(x, s, o) {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! * s;
  },
  div(x, s, o) {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! / s;
  },
  maximum(x, s, o) {
    for (let i = 0; i < o.length; i++) o[i] = maxNaN(x[i]!, s);
  },
  minimum(x, s, o) {
    for (let i = 0; i < o.length; i++) o[i] = minNaN(x[i]!, s);
  },
};

/** a·x + y. */
export function saxpy(x: F32, y: F32, a: number, o: F32): void {
  for (let i = 0; i < o.length; i++) o[i] = a * x[i]! + y[i]!;
}
