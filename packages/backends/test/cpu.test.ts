/**
 * The cpu backend against the harness's float64 references: every built-in kernel at every SIZES
 * size (the large one ≥ 16M elements), NaN/±Inf, sub-ranges merged with the spec's merge, user
 * kernels, bad input, device loss, process workers, and that chunks really run on both workers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, HOST, Tensor, WorkerPool, kernel } from '@tandem/core';
import {
  BUILTIN_KERNELS, BINARY_KERNELS, REDUCE_KERNELS, UNARY_KERNELS, kernelCall, kernelSpec, splitRange, userCall, type IndexRange,
  type KernelCall, type PartialResult,
} from '@tandem/core/backend';
import { userKernelSpec } from '@tandem/core/internal/kernel/user';
import { CpuBackend } from '../src/cpu/index.ts';
import { mergeRange } from '../src/cpu/kernels/sort.ts';
import {
  SIZES, TOLERANCE, expectClose, random, refBinary, refConv2d, refCumsum, refHistogram, refMatmul, refReduce, refSort, refUnary, tensor, withSpecials,
} from './harness.ts';

let pool: WorkerPool;
let cpu: CpuBackend;

beforeAll(async () => {
  pool = new WorkerPool({ workers: 2 });
  cpu = new CpuBackend(pool);
  await cpu.init();
});

afterAll(async () => {
  await pool?.close();
});

const sizes = Object.entries(SIZES) as [keyof typeof SIZES, number][];
const inputs = new Map<string, Float32Array>();
/** Inputs are shared between tests: the large ones take a while to generate. */
function input(kind: 'specials' | 'random', n: number, seed: number): Float32Array {
  const key = `${kind}:${n}:${seed}`;
  let x = inputs.get(key);
  if (!x) inputs.set(key, (x = kind === 'specials' ? withSpecials(n, seed) : random(n, seed)));
  return x;
}

/** `Float64Array.from(x, f)` without its iterator path, which takes seconds on 16M elements. */
function mapRef(x: ArrayLike<number>, f: (v: number, i: number) => number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!, i);
  return out;
}

const transcendental = new Set(['exp', 'log', 'sigmoid', 'tanh']);

/** Runs the call over each range separately and merges as the session would. */
async function runRanges(call: KernelCall, ranges: readonly IndexRange[]): Promise<void> {
  const spec = call.kernel === 'user' ? userKernelSpec : kernelSpec(call.kernel);
  const partials: (PartialResult | undefined)[] = [];
  for (const r of ranges) partials.push(await cpu.run(call, r));
  spec.merge?.(call, ranges, partials);
}

/** Three ranges over the extent with inner bounds at multiples of the spec's alignment. */
function threeRanges(call: KernelCall): IndexRange[] {
  const spec = call.kernel === 'user' ? userKernelSpec : kernelSpec(call.kernel);
  return splitRange(spec.extent(call), 3, spec.align?.(call) ?? 1);
}

describe('device', () => {
  it('describes the CPU and its workers, supports every kernel, and moves no bytes', () => {
    const d = cpu.device;
    expect(d).toMatchObject({ id: 'cpu', backend: 'cpu', kind: 'cpu', software: false, lanes: 2 });
    expect(d.description).toMatch(/2 thread workers$/);
    expect(d.limits.maxBufferBytes).toBe(2 ** 31 - 1);
    for (const k of [...BUILTIN_KERNELS, 'user']) expect(cpu.supports(k)).toBe(true);
    expect(cpu.supports('fft')).toBe(false);
    expect(cpu.health()).toBe('ok');
    expect(cpu.transfers()).toEqual({ uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 });
  });

  it('splits a large call across both workers and marks the output written on the host', async () => {
    const before = pool.stats().workers.map((w) => w.tasks);
    const call = kernelCall('exp', [tensor(input('random', 1 << 20, 3))]);
    call.output.residency.addCopy('webgpu:0');
    await cpu.run(call);
    const after = pool.stats().workers.map((w) => w.tasks);
    expect(after[0]! - before[0]!).toBeGreaterThan(0);
    expect(after[1]! - before[1]!).toBeGreaterThan(0);
    expect(call.output.residency.places()).toEqual([HOST]);
    expect(cpu.transfers().uploads).toBe(0);
  });
});

describe.each(sizes)('size %s (%i elements)', (_label, n) => {
  const x = () => input('specials', n, 1);
  const y = () => input('random', n, 2);

  it.each(UNARY_KERNELS)('%s', async (name) => {
    const call = kernelCall(name, [tensor(x())]);
    await cpu.run(call);
    const tol = transcendental.has(name) ? TOLERANCE.transcendental : TOLERANCE.elementwise;
    expectClose(call.output.data, mapRef(x(), refUnary[name]), tol);
  });

  it.each(BINARY_KERNELS)('%s with a tensor and with a scalar', async (name) => {
    const a = x();
    const b = y();
    const call = kernelCall(name, [tensor(a), tensor(b)]);
    await cpu.run(call);
    const f = refBinary[name];
    expectClose(call.output.data, mapRef(a, (v, i) => f(v, b[i]!)), TOLERANCE.elementwise);
    const scalar = kernelCall(name, [tensor(a), -1.5]);
    await cpu.run(scalar);
    expectClose(scalar.output.data, mapRef(a, (v) => f(v, -1.5)), TOLERANCE.elementwise);
  });

  it('saxpy', async () => {
    const a = x();
    const b = y();
    const call = kernelCall('saxpy', [tensor(a), tensor(b), 2.5]);
    await cpu.run(call);
    expectClose(call.output.data, mapRef(a, (v, i) => 2.5 * v + b[i]!), TOLERANCE.elementwise);
  });

  it.each(REDUCE_KERNELS)('%s, finite and with NaN/±Inf', async (name) => {
    for (const data of [y(), x()]) {
      const call = kernelCall(name, [tensor(data)]);
      await runRanges(call, [{ start: 0, end: n }]);
      const expected = refReduce(name, data);
      expectClose(call.output.data, [expected], TOLERANCE.reduce(name, data));
    }
  });

  it('histogram, ignoring NaN and values outside [lo, hi)', async () => {
    const data = x();
    const call = kernelCall('histogram', [tensor(data)], { bins: 50, lo: -3, hi: 3.5 });
    await runRanges(call, [{ start: 0, end: n }]);
    expect(Array.from(call.output.data)).toEqual(Array.from(refHistogram(data, 50, -3, 3.5)));
  });

  it('cumsum, finite and with NaN/±Inf', async () => {
    for (const data of [y(), x()]) {
      const call = kernelCall('cumsum', [tensor(data)]);
      await cpu.run(call);
      // Accumulated in float64: each output is its exact prefix sum rounded once to float32.
      expectClose(call.output.data, refCumsum(data), { rtol: 1e-6, atol: 1e-6 });
    }
  });

  it('sort, NaN last', async () => {
    const data = x();
    const call = kernelCall('sort', [tensor(data)]);
    await cpu.run(call);
    expectClose(call.output.data, refSort(data), { rtol: 0, atol: 0 });
  });

  it('user kernel (1-D saxpy)', async () => {
    const a = x();
    const b = y();
    const k = kernel('saxpy', function (this: { thread: { x: number } }, xs: number[], ys: number[], s: number) {
      return s * xs[this.thread.x]! + ys[this.thread.x]!;
    });
    const call = userCall(k, [tensor(a), tensor(b), 2.5], [n]);
    await cpu.run(call);
    expectClose(call.output.data, mapRef(a, (v, i) => 2.5 * v + b[i]!), TOLERANCE.elementwise);
  });
});

describe('sub-ranges equal the whole run on that range', () => {
  const n = SIZES.prime;
  const x = () => input('specials', n, 1);

  it.each(['relu', 'sigmoid', 'add', 'saxpy'])('%s', async (name) => {
    const args = name === 'add' ? [tensor(x()), tensor(random(n, 2))] : name === 'saxpy' ? [tensor(x()), tensor(random(n, 2)), 3] : [tensor(x())];
    const whole = kernelCall(name, args);
    await cpu.run(whole);
    const part = kernelCall(name, args);
    await cpu.run(part, { start: 1001, end: 5003 });
    expect(Array.from(part.output.data.subarray(1001, 5003))).toEqual(Array.from(whole.output.data.subarray(1001, 5003)));
    // Nothing outside the range was written.
    expect(part.output.data.subarray(0, 1001).every((v) => v === 0)).toBe(true);
    expect(part.output.data.subarray(5003).every((v) => v === 0)).toBe(true);
  });

  it.each([...REDUCE_KERNELS, 'histogram'])('%s partials merge to the whole', async (name) => {
    const data = random(n, 4);
    const params: Record<string, number> = name === 'histogram' ? { bins: 17, lo: -4, hi: 4 } : {};
    const call = kernelCall(name, [tensor(data)], params);
    const ranges = [{ start: 0, end: 0 }, ...threeRanges(call)];
    await runRanges(call, ranges);
    if (name === 'histogram') expect(Array.from(call.output.data)).toEqual(Array.from(refHistogram(data, 17, -4, 4)));
    else expectClose(call.output.data, [refReduce(name as (typeof REDUCE_KERNELS)[number], data)], TOLERANCE.reduce(name, data));
    const [sub] = (await cpu.run(call, { start: 10, end: 20 }))!;
    if (name === 'sum' || name === 'mean') expect(sub).toBeCloseTo(refReduce('sum', data.subarray(10, 20)), 4);
  });

  it('reductions over zero elements give the identities', async () => {
    const empty = tensor([]);
    const results: number[] = [];
    for (const name of ['sum', 'mean', 'min', 'max']) {
      const call = kernelCall(name, [empty]);
      await runRanges(call, [{ start: 0, end: 0 }]);
      results.push(call.output.data[0]!);
    }
    expect(results).toEqual([0, NaN, Infinity, -Infinity]);
  });

  it('cumsum: local scans per range, carried by the spec merge', async () => {
    const data = x();
    const call = kernelCall('cumsum', [tensor(data)]);
    const ranges = threeRanges(call);
    const local = kernelCall('cumsum', [tensor(data)]);
    await cpu.run(local, ranges[1]);
    const r = ranges[1]!;
    expectClose(local.output.data.subarray(r.start, r.end), refCumsum(data.subarray(r.start, r.end)), { rtol: 1e-6, atol: 1e-6 });
    await runRanges(call, ranges);
    expectClose(call.output.data, refCumsum(data), { rtol: 1e-5, atol: 1e-5 });
  });

  it('sort: sorted runs per range, merged by the spec merge', async () => {
    const data = withSpecials(n, 5);
    const call = kernelCall('sort', [tensor(data)]);
    await runRanges(call, threeRanges(call));
    expectClose(call.output.data, refSort(data), { rtol: 0, atol: 0 });
  });

  it('matmul and conv2d over whole rows', async () => {
    const a = tensor(withSpecials(37 * 29, 1), [37, 29]);
    const b = tensor(random(29 * 41, 2), [29, 41]);
    const img = tensor(withSpecials(31 * 23, 3), [31, 23]);
    const f = tensor(random(15, 4), [3, 5]);
    for (const [name, args, width] of [['matmul', [a, b], 41], ['conv2d', [img, f], 23]] as const) {
      const whole = kernelCall(name, args);
      await cpu.run(whole);
      const part = kernelCall(name, args);
      await cpu.run(part, { start: 5 * width, end: 17 * width });
      expect(Array.from(part.output.data.subarray(5 * width, 17 * width))).toEqual(Array.from(whole.output.data.subarray(5 * width, 17 * width)));
      expect(part.output.data.subarray(17 * width).every((v) => v === 0)).toBe(true);
    }
  });
});

describe('matmul', () => {
  const check = async (m: number, k: number, n: number, specials = false, backend = cpu) => {
    const av = specials ? withSpecials(m * k, 7) : random(m * k, 7);
    const bv = random(k * n, 8);
    const call = kernelCall('matmul', [tensor(av, [m, k]), tensor(bv, [k, n])]);
    await backend.run(call);
    expectClose(call.output.data, refMatmul(av, bv, m, k, n), TOLERANCE.matmul(k));
  };

  it.each([[1, 1, 1], [5, 7, 3], [4, 8, 8], [33, 300, 17], [97, 131, 61], [130, 513, 9], [0, 4, 5], [6, 0, 5], [3, 4, 0]])('[%i, %i] × [%i, ·]', async (m, k, n) => {
    await check(m, k, n);
  });

  it('passes NaN and ±Inf through as IEEE-754 says', async () => {
    await check(29, 70, 23, true);
  });

  it('large: [2^21 + 3, 8] × [8, 3] (16.8M elements in a)', async () => {
    await check((1 << 21) + 3, 8, 3);
  });

  it('256 × 256 × 256 on each engine', async () => {
    for (const matmul of ['js', 'tfjs-wasm'] as const) {
      const other = new CpuBackend(pool, { matmul });
      await other.init();
      await check(256, 256, 256, false, other);
      await check(7, 3, 5, true, other);
    }
    await check(256, 256, 256);
  });
});

describe('conv2d', () => {
  const check = async (h: number, w: number, kh: number, kw: number, specials = false, filterSpecials = false) => {
    const img = specials ? withSpecials(h * w, 9) : random(h * w, 9);
    const f = filterSpecials ? withSpecials(kh * kw, 10) : random(kh * kw, 10);
    const call = kernelCall('conv2d', [tensor(img, [h, w]), tensor(f, [kh, kw])]);
    await cpu.run(call);
    expectClose(call.output.data, refConv2d(img, h, w, f, kh, kw), TOLERANCE.matmul(kh * kw));
  };

  it.each([[1, 1, 1, 1], [1, 7919, 1, 3], [1000, 1, 3, 1], [20, 50, 3, 3], [37, 53, 5, 3], [8, 3, 7, 7], [77, 33, 9, 11], [0, 5, 3, 3]])('[%i, %i] with a %i×%i filter', async (h, w, kh, kw) => {
    await check(h, w, kh, kw);
  });

  it('passes NaN and ±Inf through, in the image and in the filter (where padding is skipped, not multiplied)', async () => {
    await check(41, 47, 3, 3, true);
    await check(41, 47, 5, 5, true, true);
  });

  it('large: [4099, 4096] (16.8M elements) with a 3×3 filter', async () => {
    await check(4099, 4096, 3, 3);
  });
});

describe('user kernels', () => {
  it('2-D 3×3 box blur reads a[y][x] row views, with constants and this.output', async () => {
    const h = 61;
    const w = 47;
    const img = random(h * w, 11);
    const blur = kernel('blur', function (this: { thread: { x: number; y: number }; output: { x: number; y: number }; constants: Record<string, number> }, a: number[][]) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = this.thread.y + dy;
          const xx = this.thread.x + dx;
          if (yy >= 0 && yy < this.output.y && xx >= 0 && xx < this.output.x) s += a[yy]![xx]!;
        }
      }
      return s * this.constants.scale!;
    }, { scale: 1 / 9 });
    const call = userCall(blur, [tensor(img, [h, w])], [w, h]);
    expect(call.output.shape).toEqual([h, w]);
    await cpu.run(call);
    const ones = new Float32Array(9).fill(1);
    const expected = refConv2d(img, h, w, ones, 3, 3).map((v) => v / 9);
    expectClose(call.output.data, expected, TOLERANCE.elementwise);
    // Rows [10, 30) alone match the whole run.
    const part = userCall(blur, [tensor(img, [h, w])], [w, h]);
    await cpu.run(part, { start: 10 * w, end: 30 * w });
    expect(Array.from(part.output.data.subarray(10 * w, 30 * w))).toEqual(Array.from(call.output.data.subarray(10 * w, 30 * w)));
  });

  it('3-D output and input: this.thread.z and a[z][y][x]', async () => {
    const [z, y, x] = [3, 4, 5];
    const data = random(z * y * x, 12);
    const k = kernel('shift', function (this: { thread: { x: number; y: number; z: number } }, a: number[][][], add: number) {
      return a[this.thread.z]![this.thread.y]![this.thread.x]! * 2 + add + this.thread.z * 100;
    });
    const call = userCall(k, [tensor(data, [z, y, x]), 1], [x, y, z]);
    await runRanges(call, threeRanges(call));
    expectClose(call.output.data, mapRef(data, (v, i) => v * 2 + 1 + Math.floor(i / (y * x)) * 100), TOLERANCE.elementwise);
  });

  it('runs sources whose inner functions esbuild wrapped in __name (tsx keepNames) and passes kernel errors on', async () => {
    const named = {
      ...kernel('twice', function () { return 0; }),
      source: 'function (x) { function inner(v) { return v * 2; } __name(inner, "inner"); const plus = __name((v) => v + 1, "plus"); return plus(inner(x[this.thread.x])); }',
    };
    const call = userCall(named, [tensor([1, 2, 3])], [3]);
    await cpu.run(call);
    expect(Array.from(call.output.data)).toEqual([3, 5, 7]);
    const throws = kernel('throws', function (this: { thread: { x: number } }) {
      if (this.thread.x === 2) throw new RangeError('kernel says no');
      return 1;
    });
    await expect(cpu.run(userCall(throws, [], [4]))).rejects.toThrow('kernel says no');
  });

  it('rejects a source that does not compile, naming it', async () => {
    const bad = { ...kernel('ok', function () { return 1; }), source: 'function () { return ( }' };
    await expect(cpu.run(userCall(bad, [], [4]))).rejects.toMatchObject({ argument: 'call.user.source' });
  });
});

describe('bad input', () => {
  it('names the argument and what was expected', async () => {
    const a = tensor(random(6), [2, 3]);
    const wrong = kernelCall('matmul', [a, tensor(random(6), [3, 2])]);
    await expect(cpu.run({ ...wrong, args: [a, tensor(random(8), [4, 2])] })).rejects.toMatchObject({ argument: 'args[1].shape' });
    const ints = Tensor.from([1, 2], [2], 'int32');
    await expect(cpu.run({ kernel: 'exp', args: [ints], params: {}, output: Tensor.zeros([2]) })).rejects.toBeInstanceOf(ArgumentError);
    await expect(cpu.run({ kernel: 'exp', args: [a], params: {}, output: Tensor.zeros([3]) })).rejects.toMatchObject({ argument: 'call.output' });
    await expect(cpu.run(wrong, { start: 1, end: 2 })).rejects.toMatchObject({ argument: 'range' });
    await expect(cpu.run(wrong, { start: 0, end: 99 })).rejects.toMatchObject({ argument: 'range' });
    const plain = new Tensor('float32', [2], new Float32Array(2));
    await expect(cpu.run(kernelCall('exp', [plain]))).rejects.toMatchObject({ argument: 'call.args[0]' });
    await expect(cpu.run({ kernel: 'fft', args: [a], params: {}, output: a })).rejects.toMatchObject({ argument: 'call.kernel' });
    expect(() => new CpuBackend(pool, { matmul: 'blas' as never })).toThrow(/options.matmul/);
  });
});

describe('device loss', () => {
  it('rejects fast with ERR_TANDEM_DEVICE_LOST once its pool is closed, or once disposed', async () => {
    const own = new WorkerPool({ workers: 1 });
    const backend = new CpuBackend(own);
    await backend.init();
    await own.close();
    const call = kernelCall('neg', [tensor([1, 2, 3])]);
    await expect(backend.run(call)).rejects.toMatchObject({ code: 'ERR_TANDEM_DEVICE_LOST' });
    expect(backend.health()).toBe('lost');
    const other = new CpuBackend(pool);
    await other.dispose();
    expect(other.health()).toBe('lost');
    await expect(other.run(call)).rejects.toMatchObject({ code: 'ERR_TANDEM_DEVICE_LOST' });
    expect(cpu.health()).toBe('ok');
  });
});

describe('process workers (tensors copied, chunks returned)', () => {
  it('computes map, reduce, scan, sort and matmul kernels correctly', async () => {
    const procs = new WorkerPool({ workers: 2, workerKind: 'process' });
    try {
      const backend = new CpuBackend(procs);
      await backend.init();
      expect(backend.device.description).toMatch(/2 process workers$/);
      const n = 300_001;
      const data = withSpecials(n, 13);
      const exp = kernelCall('exp', [tensor(data)]);
      await backend.run(exp);
      expectClose(exp.output.data, mapRef(data, Math.exp), TOLERANCE.transcendental);
      const [max] = (await backend.run(kernelCall('max', [tensor(random(n, 14))])))!;
      expect(max).toBe(refReduce('max', random(n, 14)));
      const scan = kernelCall('cumsum', [tensor(random(n, 15))]);
      await backend.run(scan);
      expectClose(scan.output.data, refCumsum(random(n, 15)), { rtol: 1e-6, atol: 1e-6 });
      const sort = kernelCall('sort', [tensor(data)]);
      await backend.run(sort);
      expectClose(sort.output.data, refSort(data), { rtol: 0, atol: 0 });
      const [a, b] = [random(300 * 200, 16), random(200 * 100, 17)];
      const mm = kernelCall('matmul', [tensor(a, [300, 200]), tensor(b, [200, 100])]);
      await backend.run(mm);
      expectClose(mm.output.data, refMatmul(a, b, 300, 200, 100), TOLERANCE.matmul(200));
    } finally {
      await procs.close();
    }
  });
});

describe('three workers (odd chunk counts: merge rounds with a lone run, three-way carries)', () => {
  it('sorts, scans and reduces', async () => {
    const three = new WorkerPool({ workers: 3 });
    try {
      const backend = new CpuBackend(three);
      await backend.init();
      const n = 1_000_003;
      const data = withSpecials(n, 21);
      const sort = kernelCall('sort', [tensor(data)]);
      await backend.run(sort);
      expectClose(sort.output.data, refSort(data), { rtol: 0, atol: 0 });
      const part = kernelCall('sort', [tensor(data)]);
      await backend.run(part, { start: 100, end: 900_000 });
      expectClose(part.output.data.subarray(100, 900_000), refSort(data.subarray(100, 900_000)), { rtol: 0, atol: 0 });
      const finite = random(n, 22);
      const scan = kernelCall('cumsum', [tensor(finite)]);
      await backend.run(scan);
      expectClose(scan.output.data, refCumsum(finite), { rtol: 1e-6, atol: 1e-6 });
      const [max] = (await backend.run(kernelCall('max', [tensor(finite)])))!;
      expect(max).toBe(refReduce('max', finite));
      expect(three.stats().workers.every((w) => w.tasks > 0)).toBe(true);
    } finally {
      await three.close();
    }
  });
});

describe('merge-path merge', () => {
  it('splits a merge of runs with ties, NaN and ±0 anywhere along the path', () => {
    const a = Float32Array.from([-Infinity, -1, -0, 0, 0, 2, 2, 2, Infinity, NaN]);
    const b = Float32Array.from([-1, 0, 2, 2, 3, NaN, NaN]);
    const src = new Float32Array([...a, ...b]);
    const expected = refSort(src);
    for (let cut = 0; cut <= src.length; cut++) {
      const o = new Float32Array(src.length);
      mergeRange(src, 0, a.length, src.length, 0, cut, o);
      mergeRange(src, 0, a.length, src.length, cut, src.length, o.subarray(cut));
      expectClose(o, expected, { rtol: 0, atol: 0 });
    }
  });
});
