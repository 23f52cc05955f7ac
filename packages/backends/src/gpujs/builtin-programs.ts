/**
 * The built-in kernels this backend has, written in gpu.js's dialect like any user kernel, so
 * the kernel bench compares gpu.js's code generation against the hand-written WGSL backend.
 *
 * NaN and ±Infinity: WGSL lets a driver drop NaN in `min`/`max` and in comparisons of a value
 * with itself (`v != v` is false for NaN on lavapipe), so nothing here relies on them. `relu`,
 * `maximum`, `minimum` and the min/max reductions branch on ordered comparisons, which are all
 * false when a NaN is involved, and produce the NaN arithmetically (`u + w`). gpu.js writes an
 * `Infinity` literal as the largest finite f32, so no kernel starts from ±Infinity either. Equal
 * operands are told apart only when both are zero, where min/max pick -0 below +0 arithmetically.
 */
import {
  BINARY_KERNELS, REDUCE_KERNELS, UNARY_KERNELS, type BinaryKernel, type KernelCall, type ReduceKernel, type Tensor,
  type UnaryKernel,
} from '@tandem/core/backend';
import { DENORMAL_SCALE, LN_DENORMAL_SCALE, MIN_NORMAL, TANH_IDENTITY_BELOW, TANH_SERIES_BELOW, lit, tanhSeries } from '../float32-math.ts';
import type { Program } from './kernels.ts';
import { OFFSET_ARG, OUTER_ARG } from './user-program.ts';

/** A map kernel: `program(...args, offset, outer)` computes output rows/elements `[offset, offset + n)`. */
export interface MapPlan {
  readonly kind: 'map';
  readonly program: Program;
  readonly args: readonly (Tensor | number)[];
  /** The whole output in gpu.js dims (x fastest); ranges cut its outermost axis. */
  readonly dims: readonly number[];
}

/** A reduction: `program(x, start, end)` leaves one partial per {@link REDUCE_CHUNK} inputs. */
export interface ReducePlan {
  readonly kind: 'reduce';
  readonly program: Program;
  readonly input: Tensor;
  readonly reducer: ReduceKernel;
}

export type BuiltinPlan = MapPlan | ReducePlan;

/** Inputs each thread of a reduction folds before the host combines the partials in float64. */
export const REDUCE_CHUNK = 256;

/** The built-in kernels the gpujs backend has code for. */
export const GPUJS_BUILTINS: readonly string[] = [...UNARY_KERNELS, ...BINARY_KERNELS, 'saxpy', 'matmul', 'conv2d', ...REDUCE_KERNELS];

const TAIL = `${OFFSET_ARG}, ${OUTER_ARG}`;
const AT = `this.thread.x + ${OFFSET_ARG}`;

/**
 * Equal operands that are both zero: the sum of ±0 is +0 unless both are -0, so `a + b` is their
 * maximum and `-(-a - b)` their minimum (-0 below +0, as JavaScript's Math.min/max).
 */
const ZERO_MAX = (a: string, b: string, to: string) => `if (${a} == 0) { ${to} ${a} + ${b}; }`;
const ZERO_MIN = (a: string, b: string, to: string) => `if (${a} == 0) { ${to} -(-${a} - ${b}); }`;

const UNARY_BODY: Record<UnaryKernel, string> = {
  neg: 'return -v;',
  abs: 'return Math.abs(v);',
  exp: 'return Math.exp(v);',
  // A denormal scaled into the normal range first: the builtin's log(1e-40) is -88 on lavapipe.
  log: `if (v > 0 && v < ${lit(MIN_NORMAL)}) { return Math.log(v * ${lit(DENORMAL_SCALE)}) - ${lit(LN_DENORMAL_SCALE)}; } return Math.log(v);`,
  sqrt: 'return Math.sqrt(v);',
  relu: 'return v <= 0 ? 0 : v;',
  sigmoid: 'return 1 / (1 + Math.exp(-v));',
  // The builtin loses all precision near 0 (lavapipe's tanh(1e-30) is 3e-8): float32-math.ts.
  tanh: `const a = Math.abs(v);
    if (a < ${lit(TANH_IDENTITY_BELOW)}) { return v; }
    if (a < ${lit(TANH_SERIES_BELOW)}) { const s = v * v; return v + v * s * ${tanhSeries('s')}; }
    const t = Math.exp(-2 * a);
    const r = (1 - t) / (1 + t);
    return v < 0 ? -r : r;`,
};

const BINARY_BODY: Record<BinaryKernel, string> = {
  add: 'return u + w;',
  sub: 'return u - w;',
  mul: 'return u * w;',
  div: 'return u / w;',
  maximum: `if (u > w) { return u; } if (w > u) { return w; } if (u == w) { ${ZERO_MAX('u', 'w', 'return')} return w; } return u + w;`,
  minimum: `if (u < w) { return u; } if (w < u) { return w; } if (u == w) { ${ZERO_MIN('u', 'w', 'return')} return w; } return u + w;`,
};

const REDUCE_STEP: Record<ReduceKernel, string> = {
  sum: 'acc += v;',
  mean: 'acc += v;',
  min: `if (v < acc) { acc = v; } else if (v == acc) { ${ZERO_MIN('acc', 'v', 'acc =')} } else if (!(v > acc)) { acc = acc + v; }`,
  max: `if (v > acc) { acc = v; } else if (v == acc) { ${ZERO_MAX('acc', 'v', 'acc =')} } else if (!(v < acc)) { acc = acc + v; }`,
};

const program = (name: string, key: string, source: string, argumentTypes: string[], constants?: Record<string, number>): Program => ({
  key: `builtin:${key}`,
  name,
  source,
  argumentTypes,
  ...(constants ? { constants } : {}),
});

function unary(name: UnaryKernel): Program {
  return program(name, name, `function (x, ${TAIL}) { const v = x[${AT}]; ${UNARY_BODY[name]} }`, ['WebGPUBuffer', 'Integer', 'Integer']);
}

function binary(name: BinaryKernel, scalar: boolean): Program {
  const w = scalar ? 'y' : `y[${AT}]`;
  return program(name, `${name}:${scalar ? 'scalar' : 'tensor'}`, `function (x, y, ${TAIL}) { const u = x[${AT}]; const w = ${w}; ${BINARY_BODY[name]} }`, [
    'WebGPUBuffer',
    scalar ? 'Float' : 'WebGPUBuffer',
    'Integer',
    'Integer',
  ]);
}

const saxpy = program('saxpy', 'saxpy', `function (x, y, a, ${TAIL}) { return a * x[${AT}] + y[${AT}]; }`, ['WebGPUBuffer', 'WebGPUBuffer', 'Float', 'Integer', 'Integer']);

// One output element per thread, rows offset; b is read along its rows by neighbouring threads.
// The row index stays inline: gpu.js stores locals as f32, and an f32 row index costs 5x here.
function matmul(k: number): Program {
  const source = `function (a, b, ${TAIL}) {
    let s = 0;
    for (let i = 0; i < this.constants.k; i++) { s += a[this.thread.y + ${OFFSET_ARG}][i] * b[i][this.thread.x]; }
    return s;
  }`;
  return program('matmul', `matmul:${k}`, source, ['WebGPUBuffer', 'WebGPUBuffer', 'Integer', 'Integer'], { k });
}

// 'same' correlation with zero padding; sizes are integer arguments so index arithmetic stays i32.
function conv2d(kh: number, kw: number): Program {
  const row = `this.thread.y + ${OFFSET_ARG} + i - ch`;
  const col = 'this.thread.x + j - cw';
  const source = `function (img, f, h, w, ch, cw, ${TAIL}) {
    let s = 0;
    for (let i = 0; i < this.constants.kh; i++) {
      for (let j = 0; j < this.constants.kw; j++) {
        if (${row} >= 0 && ${row} < h && ${col} >= 0 && ${col} < w) { s += img[${row}][${col}] * f[i][j]; }
      }
    }
    return s;
  }`;
  return program('conv2d', `conv2d:${kh}x${kw}`, source, ['WebGPUBuffer', 'WebGPUBuffer', 'Integer', 'Integer', 'Integer', 'Integer', 'Integer', 'Integer'], { kh, kw });
}

// Each thread folds REDUCE_CHUNK consecutive inputs of [start, end), starting from its first one
// (there always is one), so no identity value — which gpu.js could not write for ±Infinity — is needed.
function reduce(name: ReduceKernel): Program {
  const base = `this.thread.x * ${REDUCE_CHUNK} + start`;
  const source = `function (x, start, end) {
    let acc = x[${base}];
    for (let i = 1; i < ${REDUCE_CHUNK}; i++) {
      if (${base} + i < end) { const v = x[${base} + i]; ${REDUCE_STEP[name]} }
    }
    return acc;
  }`;
  return program(name, `reduce:${name}`, source, ['WebGPUBuffer', 'Integer', 'Integer']);
}

const isUnary = (k: string): k is UnaryKernel => (UNARY_KERNELS as readonly string[]).includes(k);
const isBinary = (k: string): k is BinaryKernel => (BINARY_KERNELS as readonly string[]).includes(k);
const isReduce = (k: string): k is ReduceKernel => (REDUCE_KERNELS as readonly string[]).includes(k);

/** How to compute a validated built-in call (args checked by its spec), or `undefined` when this backend has no code for it. */
export function builtinPlan(call: KernelCall): BuiltinPlan | undefined {
  const { kernel, args, output } = call;
  const flat = [output.size];
  if (isUnary(kernel)) return { kind: 'map', program: unary(kernel), args: [args[0] as Tensor], dims: flat };
  if (isBinary(kernel)) return { kind: 'map', program: binary(kernel, typeof args[1] === 'number'), args: [args[0] as Tensor, args[1] as Tensor | number], dims: flat };
  if (kernel === 'saxpy') return { kind: 'map', program: saxpy, args: [args[0] as Tensor, args[1] as Tensor, args[2] as number], dims: flat };
  if (kernel === 'matmul') {
    const [a, b] = args as [Tensor, Tensor];
    return { kind: 'map', program: matmul(a.shape[1]!), args: [a, b], dims: [b.shape[1]!, a.shape[0]!] };
  }
  if (kernel === 'conv2d') {
    const [img, f] = args as [Tensor, Tensor];
    const [h, w] = img.shape as [number, number];
    const [kh, kw] = f.shape as [number, number];
    return { kind: 'map', program: conv2d(kh, kw), args: [img, f, h, w, (kh - 1) / 2, (kw - 1) / 2], dims: [w, h] };
  }
  if (isReduce(kernel)) return { kind: 'reduce', program: reduce(kernel), input: args[0] as Tensor, reducer: kernel };
  return undefined;
}
