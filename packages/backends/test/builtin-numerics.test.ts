/**
 * Every built-in op on every backend over IEEE-754's corners — NaN, ±Infinity, ±0, denormals,
 * the largest and smallest normals — against float64 references computed here, with the per-op
 * tolerances of numerics.ts. Each backend's mismatches are listed in full; there must be none.
 * GPU backends may read and write denormals as zero (WGSL allows it), and are held to either
 * answer; everything else, the sign of zero included, must agree. NUMERICS.md says the same.
 */
import { afterAll, beforeAll, describe, it, type TestContext } from 'vitest';
import {
  BINARY_KERNELS, REDUCE_KERNELS, UNARY_KERNELS, kernelCall, kernelSpec, splitRange, type Backend, type KernelArg,
  type PartialResult,
} from '@tandem/core/backend';
import { Tensor, WorkerPool } from '@tandem/core';
import { CpuBackend } from '../src/cpu/index.ts';
import { GpuJsBackend } from '../src/gpujs/index.ts';
import { TfjsBackend } from '../src/tfjs/index.ts';
import { WebGpuBackend } from '../src/webgpu/index.ts';
import { gpuOrSkip, refBinary, refConv2d, refCumsum, refHistogram, refMatmul, refReduce, refSort, refUnary } from './harness.ts';
import {
  MAX_F32, NUMERIC_TOLERANCE as TOL, PAIR_VALUES, SCALARS, SPECIALS, expectNoMismatches, flush, fmt, within, withinFlushed,
  type Outcome, type Tolerance,
} from './numerics.ts';

const f32 = Math.fround;

/** A tensor argument by value (a fresh Tensor per run, so no backend sees another's device copy). */
interface Arg { readonly v: readonly number[]; readonly shape?: readonly number[] }
type CaseArg = Arg | number;

interface Case {
  readonly label: string;
  readonly kernel: string;
  readonly args: readonly CaseArg[];
  readonly params?: Readonly<Record<string, number>>;
  /** The float64 reference, from plain number arrays (called again on flushed inputs for GPUs). */
  readonly ref: (args: readonly (readonly number[] | number)[]) => readonly number[];
  /** Tolerance of output element `i` on a backend that computes in float64 (cpu) or float32. */
  readonly tol: (float64: boolean, i: number) => Tolerance;
  /**
   * The reference with float32 intermediates, also accepted from float32 backends: where an
   * intermediate leaves float32's range (a·x in saxpy, a partial sum) they give ±Inf or NaN.
   */
  readonly ref32?: (args: readonly (readonly number[] | number)[]) => readonly number[];
  /** Runs also as two sub-ranges merged by the spec (reductions: partials combine on the host). */
  readonly split?: boolean;
}

const values = (a: CaseArg) => (typeof a === 'number' ? a : a.v);
const flushArg = (a: readonly number[] | number) => (typeof a === 'number' ? flush(a) : a.map(flush));
const pairs = (xs: readonly number[]) => ({ x: xs.flatMap((a) => xs.map(() => a)), y: xs.flatMap(() => xs) });

const EXACT = new Set(['neg', 'abs', 'relu', 'add', 'sub', 'mul', 'maximum', 'minimum']);
const CORRECTLY_ROUNDED_IN_F64 = new Set(['div', 'sqrt']);

/** Elementwise ops at input `x`: exact everywhere; div and sqrt exact when computed in float64 and rounded once. */
function elementwiseTol(kernel: string): (float64: boolean, x: number) => Tolerance {
  if (EXACT.has(kernel)) return () => TOL.exact;
  const gpu = TOL.gpu[kernel as keyof typeof TOL.gpu];
  if (CORRECTLY_ROUNDED_IN_F64.has(kernel)) return (f64, x) => (f64 ? TOL.exact : gpu(x));
  return (f64, x) => (f64 ? TOL.cpu.transcendental : gpu(x));
}

/** Σx in float32, left to right. */
function sum32(x: readonly number[]): number {
  let s = 0;
  for (const v of x) s = f32(s + v);
  return s;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const k of UNARY_KERNELS) {
    const tol = elementwiseTol(k);
    out.push({ label: k, kernel: k, args: [{ v: SPECIALS }], ref: ([x]) => (x as number[]).map(refUnary[k]), tol: (f64, i) => tol(f64, SPECIALS[i]!) });
  }
  const { x, y } = pairs(PAIR_VALUES);
  for (const k of BINARY_KERNELS) {
    const tol = elementwiseTol(k);
    const ref = refBinary[k];
    out.push({ label: `${k}(tensor, tensor)`, kernel: k, args: [{ v: x }, { v: y }], ref: ([a, b]) => (a as number[]).map((v, i) => ref(v, (b as number[])[i]!)), tol: (f64, i) => tol(f64, x[i]!) });
    for (const s of SCALARS) {
      out.push({ label: `${k}(tensor, ${s})`, kernel: k, args: [{ v: PAIR_VALUES }, s], ref: ([a, b]) => (a as number[]).map((v) => ref(v, b as number)), tol: (f64, i) => tol(f64, PAIR_VALUES[i]!) });
    }
  }
  for (const a of [1, -0, -2.5, 1e30, Number.NaN].map(f32)) {
    out.push({
      label: `saxpy(a = ${a})`, kernel: 'saxpy', args: [{ v: x }, { v: y }, a],
      ref: ([xs, ys, s]) => (xs as number[]).map((v, i) => (s as number) * v + (ys as number[])[i]!),
      ref32: ([xs, ys, s]) => (xs as number[]).map((v, i) => f32(f32((s as number) * v) + (ys as number[])[i]!)),
      tol: (f64, i) => (f64 ? TOL.exact : TOL.saxpy(a, x[i]!)),
    });
  }
  const random = Array.from({ length: 7919 }, (_, i) => f32(Math.sin(i * 12.9898) * 1e-3 + 2e-4));
  const finite = SPECIALS.filter((v) => Number.isFinite(v) && Math.abs(v) < 1e20);
  const reductionInputs: Array<[string, number[]]> = [
    ['[-0, 0]', [-0, 0]], ['[0, -0]', [0, -0]], ['[-0]', [-0]], ['[-0, -0, -0]', [-0, -0, -0]],
    ['[NaN, 1, 2]', [Number.NaN, 1, 2]], ['[1, NaN]', [1, Number.NaN]], ['[Inf, -Inf]', [Infinity, -Infinity]], ['[Inf, 1]', [Infinity, 1]], ['[-Inf, -1]', [-Infinity, -1]],
    ['[1e-40, -1e-40, 1e-40]', [1e-40, -1e-40, 1e-40].map(f32)], ['1000 × 1e-40', new Array<number>(1000).fill(f32(1e-40))],
    ['[MAX, MAX]', [MAX_F32, MAX_F32]], ['[1e30, 1, -1e30]', [1e30, 1, -1e30].map(f32)], ['finite specials', finite],
    ['7919 values of order 1e-4', random], ['[]', []],
  ];
  for (const k of REDUCE_KERNELS) {
    for (const [name, v] of reductionInputs) {
      const tol: Tolerance = k === 'sum' ? TOL.sum(v) : k === 'mean' ? TOL.mean(v) : TOL.exact;
      const ref32 = k === 'sum' || k === 'mean' ? ([a]: readonly (readonly number[] | number)[]) => [sum32(a as number[]) / (k === 'mean' ? (a as number[]).length : 1)] : undefined;
      out.push({ label: `${k} ${name}`, kernel: k, args: [{ v }], ref: ([a]) => [refReduce(k, a as number[])], ...(ref32 ? { ref32 } : {}), tol: () => tol, split: v.length > 1 });
    }
  }
  const matmuls: Array<[string, number[], number[], number, number, number]> = [
    ['specials 3×4 · 4×2', SPECIALS.slice(0, 12), SPECIALS.slice(20, 28), 3, 4, 2],
    ['finite 3×4 · 4×2', finite.slice(0, 12), finite.slice(8, 16), 3, 4, 2],
    ['denormal product', [1e-20, 1e-20].map(f32), [1e-20, 1e-20].map(f32), 1, 2, 1],
    ['Inf · 0', [Infinity, 0], [0, 1], 1, 2, 1],
    ['-0 terms', [-0, 1], [1, -0], 1, 2, 1],
  ];
  for (const [name, a, b, m, kk, n] of matmuls) {
    out.push({
      label: `matmul ${name}`, kernel: 'matmul', args: [{ v: a, shape: [m, kk] }, { v: b, shape: [kk, n] }],
      ref: ([p, q]) => Array.from(refMatmul(p as number[], q as number[], m, kk, n)),
      tol: (_f64, i) => TOL.dot(Array.from({ length: kk }, (_, t) => a[Math.floor(i / n) * kk + t]! * b[t * n + (i % n)]!)),
    });
  }
  const img = SPECIALS.filter((v) => !Number.isNaN(v)).slice(0, 16);
  const filters: Array<[string, number[]]> = [['finite filter', [0.5, -1, 0.25, 1, 2, -0.5, 0, 1e-3, -2].map(f32)], ['filter with -0 and a denormal', [-0, 1e-40, 0, 0, 1, 0, 0, 0, -0].map(f32)]];
  for (const [name, f] of filters) {
    out.push({
      label: `conv2d ${name}`, kernel: 'conv2d', args: [{ v: img, shape: [4, 4] }, { v: f, shape: [3, 3] }],
      ref: ([p, q]) => Array.from(refConv2d(p as number[], 4, 4, q as number[], 3, 3)),
      tol: () => TOL.dot(img.map((v) => v * 2)),
    });
  }
  for (const [lo, hi, bins] of [[-1, 1, 4], [0, 3, 3], [-2e30, 2e30, 5]] as const) {
    out.push({
      label: `histogram [${lo}, ${hi}) in ${bins}`, kernel: 'histogram', args: [{ v: SPECIALS }], params: { bins, lo, hi },
      ref: ([a]) => Array.from(refHistogram(a as number[], bins, lo, hi)), tol: () => TOL.exact, split: true,
    });
  }
  const scans: Array<[string, number[]]> = [
    ['small values', [1, 1e-40, -0, 0.5, 1e-30, -1e-30, 3, 2].map(f32)], ['NaN', [1, Number.NaN, 2]], ['±Inf', [1, Infinity, 2, -Infinity, 5]],
    ['[-0, -0]', [-0, -0]],
  ];
  for (const [name, v] of scans) {
    out.push({ label: `cumsum ${name}`, kernel: 'cumsum', args: [{ v }], ref: ([a]) => Array.from(refCumsum(a as number[])), tol: (_f64, i) => TOL.sum(v.slice(0, i + 1)), split: true });
  }
  const shuffled = [...SPECIALS, ...SPECIALS.slice(0, 10).reverse(), -0, 0, -0];
  out.push({ label: 'sort specials', kernel: 'sort', args: [{ v: shuffled }], ref: ([a]) => Array.from(refSort(a as number[])), tol: () => TOL.exact, split: true });
  return out;
}

interface Subject {
  readonly name: string;
  readonly backend: Backend;
  /** Computes elementwise ops in float64 and rounds once (the cpu backend). */
  readonly float64: boolean;
  /** A GPU: may treat denormals as zero. */
  readonly gpu: boolean;
  /** Documented differences of this backend: a kernel's tolerance in place of the table's. */
  readonly overrides?: Readonly<Record<string, Tolerance>>;
  available?: boolean;
  reason?: string;
}

const pool = new WorkerPool({ workers: 1 });
const subjects: Subject[] = [
  { name: 'cpu', backend: new CpuBackend(pool), float64: true, gpu: false },
  { name: 'webgpu', backend: new WebGpuBackend(), float64: false, gpu: true },
  { name: 'gpujs', backend: new GpuJsBackend(), float64: false, gpu: true },
  { name: 'tfjs:cpu', backend: new TfjsBackend({ engine: 'cpu' }), float64: false, gpu: false },
  { name: 'tfjs:wasm', backend: new TfjsBackend({ engine: 'wasm' }), float64: false, gpu: false },
  { name: 'tfjs:webgpu', backend: new TfjsBackend({ engine: 'webgpu' }), float64: false, gpu: true, overrides: { tanh: TOL.tfjsWebgpuTanh } },
];

beforeAll(async () => {
  for (const s of subjects) {
    if (s.gpu) {
      const probe = await gpuOrSkip(() => s.backend.init());
      s.available = probe.available;
      s.reason = probe.reason;
    } else {
      await s.backend.init();
      s.available = true;
    }
  }
});

afterAll(async () => {
  for (const s of subjects) await s.backend.dispose();
  await pool.close();
});

function toArgs(c: Case): KernelArg[] {
  return c.args.map((a) => (typeof a === 'number' ? a : Tensor.from(a.v, [...(a.shape ?? [a.v.length])], 'float32')));
}

/** Runs `c` over `parts` sub-ranges of its extent and merges them as the session does; returns the output's values. */
async function runCase(backend: Backend, c: Case, parts: number): Promise<number[]> {
  const call = kernelCall(c.kernel, toArgs(c), c.params);
  const spec = kernelSpec(c.kernel);
  const ranges = splitRange(spec.extent(call), parts, spec.align?.(call) ?? 1);
  const partials: Array<PartialResult | undefined> = [];
  for (const r of ranges) partials.push(await backend.run(call, r));
  spec.merge?.(call, ranges, partials);
  return Array.from(call.output.data);
}

async function check(s: Subject, c: Case, parts: number): Promise<Outcome[]> {
  const actual = await runCase(s.backend, c, parts);
  const inputs = c.args.map(values);
  const ref = c.ref(inputs);
  const refFlushed = s.gpu ? c.ref(inputs.map(flushArg)) : ref;
  const ref32 = !s.float64 && c.ref32 ? c.ref32(inputs) : undefined;
  const suffix = parts > 1 ? ` (${parts} parts)` : '';
  const shown = (c.args[0] as Arg).v;
  return ref.map((r, i) => {
    const tol = s.overrides?.[c.kernel] ?? c.tol(s.float64, i);
    const a = actual[i]!;
    const input = ref.length === shown.length && c.kernel !== 'sort' && c.kernel !== 'cumsum' ? ` at x = ${fmt(shown[i]!)}${c.args[1] !== undefined && typeof c.args[1] !== 'number' ? `, y = ${fmt((c.args[1] as Arg).v[i]!)}` : ''}` : `[${i}]`;
    const label = `${c.label}${suffix}${input}`;
    if (within(a, r, tol)) return { label, actual: a, ref: r, ok: true };
    if (s.gpu && withinFlushed(a, r, refFlushed[i]!, tol)) return { label, actual: a, ref: r, ok: true, via: 'denormal flush' };
    if (ref32 && within(a, ref32[i]!, tol)) return { label, actual: a, ref: r, ok: true, via: 'float32 intermediates' };
    return { label, actual: a, ref: r, ok: false };
  });
}


const all = cases();
const families: Array<[string, (c: Case) => boolean]> = [
  ['elementwise', (c) => UNARY_KERNELS.includes(c.kernel as never) || BINARY_KERNELS.includes(c.kernel as never) || c.kernel === 'saxpy'],
  ['reductions', (c) => REDUCE_KERNELS.includes(c.kernel as never)],
  ['matmul and conv2d', (c) => c.kernel === 'matmul' || c.kernel === 'conv2d'],
  ['histogram, cumsum, sort', (c) => c.kernel === 'histogram' || c.kernel === 'cumsum' || c.kernel === 'sort'],
];

for (const s of subjects) {
  describe(`built-in numerics on ${s.name}`, () => {
    for (const [family, member] of families) {
      it(family, async (ctx: TestContext) => {
        if (!s.available) ctx.skip(`no ${s.name} adapter: ${s.reason}`);
        const mine = all.filter((c) => member(c) && s.backend.supports(c.kernel));
        if (mine.length === 0) ctx.skip(`${s.name} has no code for ${family}`);
        const outcomes: Outcome[] = [];
        for (const c of mine) {
          outcomes.push(...(await check(s, c, 1)));
          if (c.split) outcomes.push(...(await check(s, c, 2)));
        }
        expectNoMismatches(s.name, outcomes);
      }, 120_000);
    }
  });
}
