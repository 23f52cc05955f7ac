/**
 * The built-in kernels: what each takes and returns, how it splits, what it costs. The code that
 * computes them lives in each backend; this is the contract they share.
 *
 * Semantics every backend follows (tests hold them to it):
 * - float32 in, float32 out, except `histogram` (uint32 counts).
 * - NaN and ±Infinity pass through elementwise kernels as IEEE-754 says (relu(NaN) = NaN,
 *   relu(-Inf) = 0); `min`/`max` return NaN if any input is NaN; `sort` puts NaN last;
 *   `histogram` ignores NaN and values outside [lo, hi).
 * - The sign of zero: relu(-0) = +0; `minimum`, `maximum`, `min`, `max` and `sort` order -0 below
 *   +0, as JavaScript's Math.min/max and a typed array's sort do (packages/backends/NUMERICS.md).
 * - A reduction over zero elements gives sum 0, mean NaN, min +Infinity, max -Infinity.
 */
import { ArgumentError } from '../errors.ts';
import { Tensor, type DType } from '../tensor/tensor.ts';
import { registerKernel } from './registry.ts';
import type { IndexRange, KernelArg, KernelCall, KernelSpec, PartialResult } from './types.ts';

export const UNARY_KERNELS = ['neg', 'abs', 'exp', 'log', 'sqrt', 'relu', 'sigmoid', 'tanh'] as const;
export const BINARY_KERNELS = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;
export const REDUCE_KERNELS = ['sum', 'min', 'max', 'mean'] as const;
export type UnaryKernel = (typeof UNARY_KERNELS)[number];
export type BinaryKernel = (typeof BINARY_KERNELS)[number];
export type ReduceKernel = (typeof REDUCE_KERNELS)[number];


function tensorArg(args: readonly KernelArg[], i: number, kernel: string, dtype: DType = 'float32'): Tensor {
  const t = args[i];
  if (!(t instanceof Tensor)) throw new ArgumentError(`args[${i}]`, `a Tensor (kernel '${kernel}')`, t);
  if (t.dtype !== dtype) {
    throw new ArgumentError(`args[${i}].dtype`, `${dtype} (kernel '${kernel}' supports ${dtype} only)`, t.dtype);
  }
  return t;
}

function scalarArg(args: readonly KernelArg[], i: number, kernel: string): number {
  const v = args[i];
  if (typeof v !== 'number') throw new ArgumentError(`args[${i}]`, `a number (kernel '${kernel}')`, v);
  return v;
}

function arity(args: readonly KernelArg[], n: number, kernel: string): void {
  if (!Array.isArray(args) || args.length !== n) {
    throw new ArgumentError('args', `${n} argument${n === 1 ? '' : 's'} for kernel '${kernel}'`, Array.isArray(args) ? `${args.length}` : args);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const flat = (call: KernelCall, i = 0) => (call.args[i] as Tensor).size;

function unarySpec(name: UnaryKernel): KernelSpec {
  const flopsPer = name === 'exp' || name === 'log' || name === 'sigmoid' || name === 'tanh' ? 10 : 1;
  return {
    name,
    split: 'map',
    arity: 1,
    output(args) {
      arity(args, 1, name);
      const x = tensorArg(args, 0, name);
      return { shape: [...x.shape], dtype: 'float32' };
    },
    extent: (call) => call.output.size,
    cost: (_call, r) => ({ flops: flopsPer * (r.end - r.start), bytes: 8 * (r.end - r.start) }),
  };
}

function binarySpec(name: BinaryKernel): KernelSpec {
  return {
    name,
    split: 'map',
    arity: 2,
    output(args) {
      arity(args, 2, name);
      const x = tensorArg(args, 0, name);
      if (typeof args[1] !== 'number') {
        const y = tensorArg(args, 1, name);
        if (!sameShape(x.shape, y.shape)) {
          throw new ArgumentError('args[1].shape', `[${x.shape.join(', ')}] (the shape of args[0]) or a scalar`, `[${y.shape.join(', ')}]`);
        }
      }
      return { shape: [...x.shape], dtype: 'float32' };
    },
    extent: (call) => call.output.size,
    cost: (call, r) => ({ flops: r.end - r.start, bytes: (typeof call.args[1] === 'number' ? 8 : 12) * (r.end - r.start) }),
  };
}

const saxpy: KernelSpec = {
  name: 'saxpy',
  split: 'map',
  arity: 3,
  output(args) {
    arity(args, 3, 'saxpy');
    const x = tensorArg(args, 0, 'saxpy');
    const y = tensorArg(args, 1, 'saxpy');
    scalarArg(args, 2, 'saxpy');
    if (!sameShape(x.shape, y.shape)) throw new ArgumentError('args[1].shape', `[${x.shape.join(', ')}] (the shape of x)`, `[${y.shape.join(', ')}]`);
    return { shape: [...x.shape], dtype: 'float32' };
  },
  extent: (call) => call.output.size,
  cost: (_c, r) => ({ flops: 2 * (r.end - r.start), bytes: 12 * (r.end - r.start) }),
};

/** Identity of each reduction, and how two partial values combine. */
export const REDUCTIONS: Record<ReduceKernel, { identity: number; combine(a: number, b: number): number }> = {
  sum: { identity: 0, combine: (a, b) => a + b },
  mean: { identity: 0, combine: (a, b) => a + b },
  min: { identity: Number.POSITIVE_INFINITY, combine: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b)) },
  max: { identity: Number.NEGATIVE_INFINITY, combine: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b)) },
};

function reduceSpec(name: ReduceKernel): KernelSpec {
  const { identity, combine } = REDUCTIONS[name];
  return {
    name,
    split: 'reduce',
    arity: 1,
    output(args) {
      arity(args, 1, name);
      tensorArg(args, 0, name);
      return { shape: [], dtype: 'float32' };
    },
    extent: (call) => flat(call),
    cost: (_c, r) => ({ flops: r.end - r.start, bytes: 4 * (r.end - r.start) }),
    // A partial is [value] (for mean: the sum of its range).
    merge(call, _ranges, partials) {
      let acc = identity;
      for (const p of partials) acc = combine(acc, p?.[0] ?? identity);
      if (name === 'mean') acc /= flat(call);
      call.output.data[0] = acc;
    },
  };
}

const matmul: KernelSpec = {
  name: 'matmul',
  split: 'map',
  arity: 2,
  output(args) {
    arity(args, 2, 'matmul');
    const a = tensorArg(args, 0, 'matmul');
    const b = tensorArg(args, 1, 'matmul');
    if (a.shape.length !== 2) throw new ArgumentError('args[0].shape', 'a 2-D shape [m, k]', `[${a.shape.join(', ')}]`);
    if (b.shape.length !== 2) throw new ArgumentError('args[1].shape', 'a 2-D shape [k, n]', `[${b.shape.join(', ')}]`);
    if (a.shape[1] !== b.shape[0]) {
      throw new ArgumentError('args[1].shape', `[${a.shape[1]}, n] (its rows must equal args[0]'s columns, ${a.shape[1]})`, `[${b.shape.join(', ')}]`);
    }
    return { shape: [a.shape[0]!, b.shape[1]!], dtype: 'float32' };
  },
  extent: (call) => call.output.size,
  align: (call) => Math.max(1, call.output.shape[1]!),
  cost(call, r) {
    const k = (call.args[0] as Tensor).shape[1]!;
    const n = (call.args[1] as Tensor).shape[1]!;
    const rows = n > 0 ? (r.end - r.start) / n : 0;
    return { flops: 2 * k * (r.end - r.start), bytes: 4 * (rows * k + k * n + (r.end - r.start)) };
  },
};

const conv2d: KernelSpec = {
  name: 'conv2d',
  split: 'map',
  arity: 2,
  output(args) {
    arity(args, 2, 'conv2d');
    const img = tensorArg(args, 0, 'conv2d');
    const filter = tensorArg(args, 1, 'conv2d');
    if (img.shape.length !== 2) throw new ArgumentError('args[0].shape', 'a 2-D image shape [height, width]', `[${img.shape.join(', ')}]`);
    if (filter.shape.length !== 2 || filter.shape[0]! % 2 === 0 || filter.shape[1]! % 2 === 0) {
      throw new ArgumentError('args[1].shape', 'a 2-D filter shape [kh, kw] with odd kh and kw', `[${filter.shape.join(', ')}]`);
    }
    return { shape: [...img.shape], dtype: 'float32' };
  },
  extent: (call) => call.output.size,
  align: (call) => Math.max(1, call.output.shape[1]!),
  cost(call, r) {
    const f = (call.args[1] as Tensor).size;
    return { flops: 2 * f * (r.end - r.start), bytes: 8 * (r.end - r.start) + 4 * f };
  },
};

const histogram: KernelSpec = {
  name: 'histogram',
  split: 'reduce',
  arity: 1,
  params: ['bins', 'lo', 'hi'],
  output(args, params) {
    arity(args, 1, 'histogram');
    tensorArg(args, 0, 'histogram');
    const { bins, lo, hi } = params;
    if (!Number.isSafeInteger(bins) || bins! < 1 || bins! > 65536) throw new ArgumentError('params.bins', 'an integer from 1 to 65536', bins);
    if (typeof lo !== 'number' || !Number.isFinite(lo)) throw new ArgumentError('params.lo', 'a finite number', lo);
    if (typeof hi !== 'number' || !Number.isFinite(hi) || hi <= lo) throw new ArgumentError('params.hi', `a finite number above lo (${lo})`, hi);
    return { shape: [bins!], dtype: 'uint32' };
  },
  extent: (call) => flat(call),
  cost: (_c, r) => ({ flops: 4 * (r.end - r.start), bytes: 4 * (r.end - r.start) }),
  merge(call, _ranges, partials) {
    const out = call.output.data;
    out.fill(0);
    for (const p of partials) if (p) for (let i = 0; i < out.length; i++) out[i]! += p[i] ?? 0;
  },
};

/** The bin of `v` in a histogram of `bins` bins over [lo, hi), or -1 when it falls in none. */
export function histogramBin(v: number, bins: number, lo: number, hi: number): number {
  if (!(v >= lo && v < hi)) return -1;
  return Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins));
}

function oneDimensional(args: readonly KernelArg[], kernel: string): Tensor {
  arity(args, 1, kernel);
  const x = tensorArg(args, 0, kernel);
  if (x.shape.length !== 1) throw new ArgumentError('args[0].shape', `a 1-D shape (kernel '${kernel}')`, `[${x.shape.join(', ')}]`);
  return x;
}

const cumsum: KernelSpec = {
  name: 'cumsum',
  split: 'scan',
  arity: 1,
  output(args) {
    const x = oneDimensional(args, 'cumsum');
    return { shape: [...x.shape], dtype: 'float32' };
  },
  extent: (call) => flat(call),
  cost: (_c, r) => ({ flops: r.end - r.start, bytes: 8 * (r.end - r.start) }),
  merge(call, ranges) {
    const out = call.output.data as Float32Array;
    const sorted = [...ranges].sort((a, b) => a.start - b.start);
    let carry = 0;
    for (const r of sorted) {
      if (carry !== 0) for (let i = r.start; i < r.end; i++) out[i]! += carry;
      if (r.end > r.start) carry = out[r.end - 1]!;
    }
  },
};

/** Ascending with NaN last and -0 before +0: the order every backend's sort produces. */
export function compareFloats(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  if (a === 0 && b === 0) return Number(Object.is(b, -0)) - Number(Object.is(a, -0));
  return a - b;
}

const sort: KernelSpec = {
  name: 'sort',
  split: 'sort',
  arity: 1,
  output(args) {
    const x = oneDimensional(args, 'sort');
    return { shape: [...x.shape], dtype: 'float32' };
  },
  extent: (call) => flat(call),
  cost: (_c, r) => {
    const n = r.end - r.start;
    return { flops: n * Math.max(1, Math.log2(n)), bytes: 8 * n };
  },
  merge(call, ranges) {
    const out = call.output.data as Float32Array;
    const runs = [...ranges].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
    if (runs.length <= 1) return;
    const merged = new Float32Array(out.length);
    const at = runs.map((r) => r.start);
    for (let i = 0; i < merged.length; i++) {
      let best = -1;
      for (let j = 0; j < runs.length; j++) {
        if (at[j]! >= runs[j]!.end) continue;
        if (best < 0 || compareFloats(out[at[j]!]!, out[at[best]!]!) < 0) best = j;
      }
      merged[i] = out[at[best]!++]!;
    }
    out.set(merged);
  },
};

const specs = new Map<string, KernelSpec>();
for (const name of UNARY_KERNELS) specs.set(name, unarySpec(name));
for (const name of BINARY_KERNELS) specs.set(name, binarySpec(name));
for (const name of REDUCE_KERNELS) specs.set(name, reduceSpec(name));
for (const spec of [saxpy, matmul, conv2d, histogram, cumsum, sort]) specs.set(spec.name, spec);
// The registry is where every kernel is looked up (backends, planner, td.ops); the built-ins join first.
for (const spec of specs.values()) registerKernel(spec);

/** Every built-in kernel's name. */
export const BUILTIN_KERNELS: readonly string[] = [...specs.keys()];

/** Splits `[0, extent)` into `parts` contiguous ranges whose inner bounds are multiples of `align`. */
export function splitRange(extent: number, parts: number, align = 1): IndexRange[] {
  const units = Math.ceil(extent / align);
  const n = Math.max(1, Math.min(parts, units));
  const out: IndexRange[] = [];
  for (let i = 0; i < n; i++) {
    const start = Math.min(extent, Math.floor((i * units) / n) * align);
    const end = Math.min(extent, Math.floor(((i + 1) * units) / n) * align);
    out.push({ start, end });
  }
  return out;
}

export type { PartialResult };
