/**
 * The WebGPU backend on a real Dawn adapter (lavapipe on CI): every built-in kernel against the
 * float64 references at every harness size, NaN/±Inf semantics, sub-range runs merged with the
 * spec's merge, chunking under a lowered binding limit, residency and transfer counts, and device
 * loss. Without an adapter every test skips with the reason (and fails under TANDEM_REQUIRE_GPU=1).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { ArgumentError, DeviceLostError, HOST, Tensor } from '@tandem/core';
import {
  BINARY_KERNELS, BUILTIN_KERNELS, REDUCE_KERNELS, UNARY_KERNELS, kernelCall, kernelSpec, splitRange, type IndexRange,
  type KernelArg, type KernelCall, type PartialResult, type RunEvent,
} from '@tandem/core/backend';
import { WebGpuBackend } from '../src/webgpu/index.ts';
import {
  SIZES, TOLERANCE, expectClose, gpuOrSkip, random, refBinary, refConv2d, refCumsum, refHistogram, refMatmul, refReduce,
  refSort, refUnary, tensor, withSpecials,
} from './harness.ts';

const ID = 'webgpu:0';
let gpu: WebGpuBackend;
let probe: { available: boolean; reason?: string } = { available: false, reason: 'not probed yet' };
/** Milliseconds each large case took (backend runs only), printed at the end for the report. */
const costs: Array<[string, number]> = [];

beforeAll(async () => {
  gpu = new WebGpuBackend();
  probe = await gpuOrSkip(() => gpu.init());
});

afterAll(async () => {
  if (costs.length) console.log(`webgpu large-case costs (ms):\n${costs.map(([k, ms]) => `  ${k.padEnd(28)} ${ms.toFixed(0)}`).join('\n')}`);
  await gpu?.dispose();
});

/** A test that needs the adapter: skipped, saying why, when there is none. */
function gpuIt(name: string, fn: (ctx: TestContext) => Promise<void>, timeout?: number): void {
  it(name, async (ctx) => {
    if (!probe.available) ctx.skip(probe.reason);
    await fn(ctx);
  }, timeout);
}

async function run(call: KernelCall, range?: IndexRange, label?: string, backend = gpu): Promise<PartialResult | undefined> {
  const t = performance.now();
  const p = await backend.run(call, range);
  if (label) costs.push([label, performance.now() - t]);
  return p;
}

/** Runs `call` over `parts` aligned sub-ranges and merges them as the session would. */
async function runSplit(call: KernelCall, parts: number, backend = gpu): Promise<void> {
  const spec = kernelSpec(call.kernel);
  const ranges = splitRange(spec.extent(call), parts, spec.align?.(call) ?? 1);
  const partials: Array<PartialResult | undefined> = [];
  for (const r of ranges) partials.push(await backend.run(call, r));
  spec.merge?.(call, ranges, partials);
}

/** `f(i)` for every index (a plain loop: `Float64Array.from` with a map function is ~10× slower at 16M). */
function mapIndex(n: number, f: (i: number) => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

const sizes = Object.entries(SIZES) as Array<[keyof typeof SIZES, number]>;
const transcendental = new Set(['exp', 'log', 'sigmoid', 'tanh']);
const isLarge = (n: number) => n >= SIZES.large;

describe('webgpu backend: device', () => {
  gpuIt('describes the adapter and the device limits', async () => {
    const d = gpu.device;
    expect(d).toMatchObject({ id: ID, backend: 'webgpu', kind: 'gpu', lanes: 1 });
    expect(d.description.length).toBeGreaterThan(0);
    expect(d.software).toBe(/llvmpipe|lavapipe|swiftshader|software/i.test(d.description));
    expect(d.limits.maxBufferBytes).toBe(gpu.gpuDevice.limits.maxBufferSize);
    expect(d.limits.maxBindingBytes).toBe(gpu.gpuDevice.limits.maxStorageBufferBindingSize);
    expect(gpu.health()).toBe('ok');
    for (const k of BUILTIN_KERNELS) expect(gpu.supports(k)).toBe(true);
    expect(gpu.supports('user')).toBe(false);
  });

  it('init() rejects with BackendUnavailableError, saying how to fix it, when there is no adapter', async (ctx) => {
    // A child process whose Vulkan loader finds no driver file: the real no-adapter path.
    const script = fileURLToPath(new URL('./fixtures/webgpu/init-without-adapter.ts', import.meta.url));
    const env = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' };
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { env, timeout: 30_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    if (result.resolved) ctx.skip(`Dawn found an adapter without Vulkan here (${String(result.description)})`);
    expect(result).toMatchObject({ name: 'BackendUnavailableError', code: 'ERR_TANDEM_BACKEND_UNAVAILABLE', backend: 'webgpu' });
    expect(result.fix).toMatch(/setup:gpu/);
  });

  gpuIt('refuses bad calls with errors naming the argument', async () => {
    const x = tensor(random(10));
    await expect(gpu.run({ ...kernelCall('neg', [x]), kernel: 'user', user: { name: 'f', source: 'function () { return 1; }', constants: {} } }))
      .rejects.toMatchObject({ argument: 'call.kernel' });
    await expect(gpu.run(kernelCall('neg', [x]), { start: 3, end: 11 })).rejects.toMatchObject({ argument: 'range' });
    const mm = kernelCall('matmul', [tensor(random(6), [2, 3]), tensor(random(12), [3, 4])]);
    await expect(gpu.run(mm, { start: 2, end: 8 })).rejects.toMatchObject({ argument: 'range' }); // not whole rows
    await expect(gpu.run({ ...kernelCall('neg', [x]), output: Tensor.zeros([9]) })).rejects.toMatchObject({ argument: 'call.output' });
    const f64 = Tensor.from([1, 2], [2], 'float64');
    await expect(gpu.run({ kernel: 'neg', args: [f64], params: {}, output: Tensor.zeros([2]) })).rejects.toBeInstanceOf(ArgumentError);
    expect(() => new WebGpuBackend({ maxBindingBytes: 100 })).toThrow(ArgumentError);
  });
});

describe('webgpu backend: elementwise kernels', () => {
  for (const [name, n] of sizes) {
    gpuIt(`unary kernels at ${name} (${n})`, async () => {
      const xs = withSpecials(n, 11);
      const x = tensor(xs);
      for (const op of UNARY_KERNELS) {
        const call = kernelCall(op, [x]);
        await run(call, undefined, isLarge(n) ? `unary ${op}` : undefined);
        const f = refUnary[op];
        const ref = mapIndex(n, (i) => f(xs[i]!));
        expectClose(call.output.data, ref, transcendental.has(op) ? TOLERANCE.transcendental : TOLERANCE.elementwise);
      }
    }, 120_000);

    gpuIt(`binary kernels (tensor and scalar operand) at ${name} (${n})`, async () => {
      const xs = withSpecials(n, 21);
      const ys = withSpecials(n, 22);
      const x = tensor(xs);
      const y = tensor(ys);
      for (const op of BINARY_KERNELS) {
        const call = kernelCall(op, [x, y]);
        await run(call, undefined, isLarge(n) ? `binary ${op}` : undefined);
        const f = refBinary[op];
        expectClose(call.output.data, mapIndex(n, (i) => f(xs[i]!, ys[i]!)), TOLERANCE.elementwise);
        const s = kernelCall(op, [x, -1.5]);
        await run(s, undefined, isLarge(n) ? `binary ${op} scalar` : undefined);
        expectClose(s.output.data, mapIndex(n, (i) => f(xs[i]!, -1.5)), TOLERANCE.elementwise);
      }
    }, 120_000);

    gpuIt(`saxpy at ${name} (${n})`, async () => {
      const xs = withSpecials(n, 31);
      const ys = random(n, 32);
      const call = kernelCall('saxpy', [tensor(xs), tensor(ys), 2.5]);
      await run(call, undefined, isLarge(n) ? 'saxpy' : undefined);
      // Two float32 roundings (a·x, then + y): the error scales with the terms, not the result.
      const bad: string[] = [];
      const out = call.output.data;
      for (let i = 0; i < n && bad.length < 5; i++) {
        const v = xs[i]!;
        const ref = 2.5 * v + ys[i]!;
        const got = out[i]!;
        const ok = Number.isNaN(ref) ? Number.isNaN(got) : !Number.isFinite(ref) ? got === ref : Math.abs(got - ref) <= 2e-7 * (Math.abs(2.5 * v) + Math.abs(ys[i]!)) + 1e-7;
        if (!ok) bad.push(`[${i}] got ${got}, expected ${ref}`);
      }
      expect(bad).toEqual([]);
    }, 60_000);
  }

  gpuIt('IEEE edge cases: division by zero, infinities, NaN and signed zero', async () => {
    const xs = [1, -1, 0, -0, NaN, Infinity, -Infinity, 2];
    const ys = [0, 0, 0, 0, 1, Infinity, 0, -0];
    const x = tensor(xs);
    for (const op of BINARY_KERNELS) {
      const call = kernelCall(op, [x, tensor(ys)]);
      await gpu.run(call);
      expectClose(call.output.data, xs.map((v, i) => refBinary[op](v, ys[i]!)), TOLERANCE.elementwise);
      for (const s of [NaN, Infinity, -Infinity, 0]) {
        const sc = kernelCall(op, [x, s]);
        await gpu.run(sc);
        expectClose(sc.output.data, xs.map((v) => refBinary[op](v, s)), TOLERANCE.elementwise);
      }
    }
    const big = tensor([100, -100, 89, -89, 1e-30, -1e-30, 20, -20]);
    for (const op of UNARY_KERNELS) {
      const call = kernelCall(op, [big]);
      await gpu.run(call);
      expectClose(call.output.data, Array.from(big.data, (v) => Math.fround(refUnary[op](v))), TOLERANCE.transcendental);
      const sp = kernelCall(op, [x]);
      await gpu.run(sp);
      expectClose(sp.output.data, xs.map((v) => Math.fround(refUnary[op](v))), TOLERANCE.transcendental);
    }
  });
});

describe('webgpu backend: reductions', () => {
  for (const [name, n] of sizes) {
    gpuIt(`sum, min, max, mean at ${name} (${n}), with and without NaN`, async () => {
      const plain = random(n, 41);
      if (n > 10) plain[7] = Infinity; // an infinity alone is not NaN: min/max/sum see it
      const special = withSpecials(n, 42);
      for (const xs of [plain, special]) {
        const x = tensor(xs);
        for (const op of REDUCE_KERNELS) {
          const call = kernelCall(op, [x]);
          const partial = (await run(call, undefined, isLarge(n) && xs === plain ? `reduce ${op}` : undefined))!;
          kernelSpec(op).merge!(call, [{ start: 0, end: n }], [partial]);
          const ref = refReduce(op, xs);
          expectClose([call.output.data[0]!], [ref], TOLERANCE.reduce(op, xs));
        }
      }
    }, 60_000);
  }

  gpuIt('partials for a range: [value], the sum for mean, identities when empty', async () => {
    const xs = random(100, 43);
    const x = tensor(xs);
    const sub = xs.subarray(10, 60);
    expect((await gpu.run(kernelCall('mean', [x]), { start: 10, end: 60 }))![0]).toBeCloseTo(refReduce('sum', sub), 4);
    expect(await gpu.run(kernelCall('min', [x]), { start: 10, end: 60 })).toEqual([refReduce('min', sub)]);
    expect(await gpu.run(kernelCall('sum', [x]), { start: 5, end: 5 })).toEqual([0]);
    expect(await gpu.run(kernelCall('min', [x]), { start: 5, end: 5 })).toEqual([Infinity]);
    expect(await gpu.run(kernelCall('max', [x]), { start: 5, end: 5 })).toEqual([-Infinity]);
  });
});

/** matmul shapes per harness size: A's element count is the size (≥ 16M for the large one, flops kept cheap). */
const MATMUL: Record<keyof typeof SIZES, [number, number, number]> = {
  empty: [0, 5, 3],
  one: [1, 1, 1],
  prime: [7919, 1, 5],
  ragged: [40, 25, 70],
  large: [(1 << 21) + 3, 8, 3],
};

/** conv2d shapes per harness size: [h, w, kh, kw]. */
const CONV: Record<keyof typeof SIZES, [number, number, number, number]> = {
  empty: [0, 5, 3, 3],
  one: [1, 1, 1, 1],
  prime: [1, 7919, 3, 5],
  ragged: [25, 40, 5, 3],
  large: [4097, 4099, 3, 3],
};

describe('webgpu backend: matmul and conv2d', () => {
  for (const [name] of sizes) {
    gpuIt(`matmul at ${name} ${JSON.stringify(MATMUL[name])}`, async () => {
      const [m, k, n] = MATMUL[name];
      const as = withSpecials(m * k, 51);
      const bs = random(k * n, 52);
      const call = kernelCall('matmul', [tensor(as, [m, k]), tensor(bs, [k, n])]);
      await run(call, undefined, name === 'large' ? 'matmul [2^21+3,8]x[8,3]' : undefined);
      expectClose(call.output.data, refMatmul(as, bs, m, k, n), TOLERANCE.matmul(k));
    }, 60_000);

    gpuIt(`conv2d at ${name} ${JSON.stringify(CONV[name])}`, async () => {
      const [h, w, kh, kw] = CONV[name];
      const img = withSpecials(h * w, 61);
      const f = random(kh * kw, 62);
      const call = kernelCall('conv2d', [tensor(img, [h, w]), tensor(f, [kh, kw])]);
      await run(call, undefined, name === 'large' ? 'conv2d 4097x4099 3x3' : undefined);
      expectClose(call.output.data, refConv2d(img, h, w, f, kh, kw), TOLERANCE.matmul(kh * kw));
    }, 60_000);
  }

  gpuIt('tiled matmul on shapes that are not multiples of the tile, with NaN/Inf rows', async () => {
    for (const [m, k, n] of [[130, 70, 97], [64, 64, 64], [33, 300, 40]] as const) {
      const as = withSpecials(m * k, 53);
      const bs = random(k * n, 54);
      const call = kernelCall('matmul', [tensor(as, [m, k]), tensor(bs, [k, n])]);
      await gpu.run(call);
      expectClose(call.output.data, refMatmul(as, bs, m, k, n), TOLERANCE.matmul(k));
    }
  });

  gpuIt('matmul GFLOP/s at 256, 512 and 1024 (printed for the report)', async () => {
    const lines: string[] = [];
    for (const s of [256, 512, 1024]) {
      const as = random(s * s, 55);
      const bs = random(s * s, 56);
      const call = kernelCall('matmul', [tensor(as, [s, s]), tensor(bs, [s, s])]);
      await gpu.upload(call.args[0] as Tensor);
      await gpu.upload(call.args[1] as Tensor);
      if (s < 1024) await gpu.run(again(call)); // the pipeline compiles on the first run (256)
      const reps = s === 1024 ? 1 : 3;
      const t = performance.now();
      for (let r = 0; r < reps; r++) await gpu.run(call);
      const ms = (performance.now() - t) / reps;
      lines.push(`  ${s}: ${ms.toFixed(1)} ms, ${((2 * s ** 3) / ms / 1e6).toFixed(2)} GFLOP/s (inputs resident; includes readback)`);
      // Spot-check rows against float64.
      for (const row of [0, s >> 1, s - 1]) {
        const ref = refMatmul(as.subarray(row * s, row * s + s), bs, 1, s, s);
        expectClose(call.output.data.subarray(row * s, row * s + s), ref, TOLERANCE.matmul(s));
      }
    }
    console.log(`webgpu matmul on ${gpu.device.description}:\n${lines.join('\n')}`);
  }, 120_000);
});

describe('webgpu backend: histogram, cumsum, sort', () => {
  for (const [name, n] of sizes) {
    gpuIt(`histogram at ${name} (${n}): exact counts, NaN and out-of-range ignored`, async () => {
      const xs = withSpecials(n, 71);
      const x = tensor(xs);
      for (const params of [{ bins: 64, lo: -3, hi: 3 }, { bins: 10_000, lo: -4.5, hi: 4.25 }]) {
        const call = kernelCall('histogram', [x], params);
        const counts = await run(call, undefined, isLarge(n) ? `histogram ${params.bins} bins` : undefined);
        expect(counts).toEqual(Array.from(refHistogram(xs, params.bins, params.lo, params.hi)));
      }
    }, 60_000);

    gpuIt(`cumsum at ${name} (${n})`, async () => {
      for (const xs of [random(n, 81), withSpecials(n, 82)]) {
        const call = kernelCall('cumsum', [tensor(xs)]);
        await run(call, undefined, isLarge(n) && !Number.isNaN(xs[3]) ? 'cumsum' : undefined);
        expectClose(call.output.data, refCumsum(xs), scanTolerance(xs));
      }
    }, 60_000);

    gpuIt(`sort at ${name} (${n}): ascending, NaN last`, async () => {
      const xs = withSpecials(n, 91);
      if (n > 20) xs.set([0, -0, 0, 1, 1, -0], 10); // duplicates and both zeros
      const call = kernelCall('sort', [tensor(xs)]);
      await run(call, undefined, isLarge(n) ? 'sort' : undefined);
      expectSameFloats(call.output.data, refSort(xs));
    }, 60_000);
  }

  gpuIt('histogram bins match histogramBin exactly at bin edges', async () => {
    const bins = 7;
    const lo = 0.1;
    const hi = 0.8;
    const values: number[] = [];
    for (let b = 0; b <= bins; b++) {
      const e = Math.fround(lo + ((hi - lo) * b) / bins);
      values.push(e, nextF32(e, -1), nextF32(e, 1));
    }
    values.push(lo, hi, -0, Infinity, -Infinity, NaN);
    const call = kernelCall('histogram', [tensor(values)], { bins, lo, hi });
    expect(await gpu.run(call)).toEqual(Array.from(refHistogram(Float32Array.from(values), bins, lo, hi)));
  });
});

/** Float32 scan error grows with the magnitude of what is summed before each element. */
function scanTolerance(xs: Float32Array) {
  let abs = 0;
  for (const v of xs) if (Number.isFinite(v)) abs += Math.abs(v);
  return { rtol: 1e-5, atol: 1e-7 * abs + 1e-5 };
}

/** Bit-for-bit the same values (any NaN matches any NaN; -0 and +0 differ). */
function expectSameFloats(actual: ArrayLike<number>, expected: ArrayLike<number>, label = 'values'): void {
  expect(actual.length, label).toBe(expected.length);
  const bad: string[] = [];
  for (let i = 0; i < expected.length && bad.length < 5; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) bad.push(`[${i}] got ${a}, expected ${e}`);
  }
  expect(bad, label).toEqual([]);
}

function nextF32(v: number, dir: 1 | -1): number {
  const f = new Float32Array([v]);
  const u = new Int32Array(f.buffer);
  if (v === 0) return dir * 2 ** -149;
  u[0]! += (v > 0 ? 1 : -1) * dir;
  return f[0]!;
}

/** A call of every kernel on `n` elements (small shapes for matmul/conv2d), for the range tests. */
function everyKernel(n: number, seed: number): KernelCall[] {
  const xs = withSpecials(n, seed);
  const x = tensor(xs);
  const y = tensor(random(n, seed + 1));
  const calls: KernelCall[] = [];
  for (const op of UNARY_KERNELS) calls.push(kernelCall(op, [x]));
  for (const op of BINARY_KERNELS) calls.push(kernelCall(op, [x, y]), kernelCall(op, [x, 0.5]));
  calls.push(kernelCall('saxpy', [x, y, -2]));
  const plain = tensor(random(n, seed + 2));
  for (const op of REDUCE_KERNELS) calls.push(kernelCall(op, [plain]), kernelCall(op, [x]));
  const rows = Math.max(1, Math.floor(n / 7));
  const mm: KernelArg[] = [tensor(withSpecials(rows * 7, seed + 3), [rows, 7]), tensor(random(7 * 9, seed + 4), [7, 9])];
  calls.push(kernelCall('matmul', mm));
  // Tiled path; B (3840 bytes) still fits the 4 KiB binding of the chunking tests.
  calls.push(kernelCall('matmul', [tensor(random(rows * 24, seed + 5), [rows, 24]), tensor(random(24 * 40, seed + 6), [24, 40])]));
  calls.push(kernelCall('conv2d', [tensor(withSpecials(rows * 7, seed + 7), [rows, 7]), tensor(random(15, seed + 8), [5, 3])]));
  calls.push(kernelCall('histogram', [x], { bins: 50, lo: -2, hi: 3 }));
  calls.push(kernelCall('cumsum', [plain]), kernelCall('cumsum', [x]));
  calls.push(kernelCall('sort', [x]));
  return calls;
}

/** The same kernel call with a fresh output. */
function again(call: KernelCall): KernelCall {
  return kernelCall(call.kernel, call.args, call.params);
}

async function expectRangesMatchWhole(backend: WebGpuBackend, call: KernelCall, parts: number): Promise<void> {
  const spec = kernelSpec(call.kernel);
  const whole = again(call);
  const wholePartial = await backend.run(whole);
  if (spec.split === 'reduce') spec.merge!(whole, [{ start: 0, end: spec.extent(whole) }], [wholePartial]);
  const split = again(call);
  await runSplit(split, parts, backend);
  const label = `${call.kernel}(${call.args.map((a) => (typeof a === 'number' ? a : `[${a.shape.join(',')}]`)).join(', ')})`;
  if (spec.split === 'map' || spec.split === 'sort' || call.kernel === 'histogram') {
    expectSameFloats(split.output.data, whole.output.data, label);
  } else {
    const xs = (call.args[0] as Tensor).data as Float32Array;
    expectClose(split.output.data, whole.output.data, call.kernel === 'cumsum' ? scanTolerance(xs) : TOLERANCE.reduce(call.kernel, xs));
  }
}

describe('webgpu backend: sub-range runs', () => {
  for (const n of [SIZES.prime, SIZES.ragged]) {
    gpuIt(`every kernel over 3 aligned ranges equals the whole run (${n} elements)`, async () => {
      for (const call of everyKernel(n, 100 + n)) await expectRangesMatchWhole(gpu, call, 3);
    }, 60_000);
  }

  gpuIt('map kernels write only their range', async () => {
    const x = tensor(random(1000, 5));
    const call = kernelCall('exp', [x]);
    call.output.data.fill(-7);
    await gpu.run(call, { start: 100, end: 300 });
    expect(call.output.data[99]).toBe(-7);
    expect(call.output.data[300]).toBe(-7);
    expect(call.output.data[100]).toBeCloseTo(Math.exp(x.data[100]!), 5);
  });
});

describe('webgpu backend: binding limit lowered to 4 KiB (chunked paths)', () => {
  let small: WebGpuBackend;
  beforeAll(async () => {
    if (!probe.available) return;
    small = new WebGpuBackend({ maxBindingBytes: 4096 });
    await small.init();
  });
  afterAll(async () => {
    await small?.dispose();
  });

  gpuIt('reports the lowered limit', async () => {
    expect(small.device.limits.maxBindingBytes).toBe(4096);
  });

  gpuIt('every kernel still matches the references, in pieces', async () => {
    const n = SIZES.prime;
    for (const call of everyKernel(n, 300)) {
      if (call.kernel === 'sort') continue; // checked below: a sort range must fit one binding
      const onWide = again(call);
      const p = await gpu.run(onWide);
      const onSmall = again(call);
      const q = await small.run(onSmall);
      const spec = kernelSpec(call.kernel);
      if (spec.split === 'reduce' && call.kernel !== 'histogram') {
        const xs = (call.args[0] as Tensor).data as Float32Array;
        expectClose(q!, p!, TOLERANCE.reduce(call.kernel, xs));
      } else if (call.kernel === 'histogram') {
        expect(q).toEqual(p);
      } else if (call.kernel === 'cumsum') {
        expectClose(onSmall.output.data, onWide.output.data, scanTolerance((call.args[0] as Tensor).data as Float32Array));
      } else {
        expectSameFloats(onSmall.output.data, onWide.output.data, call.kernel);
      }
    }
    // Explicit reference checks on the chunked paths.
    const xs = withSpecials(n, 301);
    const cs = kernelCall('cumsum', [tensor(random(n, 302))]);
    await small.run(cs);
    expectClose(cs.output.data, refCumsum((cs.args[0] as Tensor).data), scanTolerance((cs.args[0] as Tensor).data as Float32Array));
    const h = kernelCall('histogram', [tensor(xs)], { bins: 33, lo: -3, hi: 3.5 });
    expect(await small.run(h)).toEqual(Array.from(refHistogram(xs, 33, -3, 3.5)));
    const [rows, w] = [300, 37];
    const img = withSpecials(rows * w, 303);
    const f = random(9, 304);
    const cv = kernelCall('conv2d', [tensor(img, [rows, w]), tensor(f, [3, 3])]);
    await small.run(cv);
    expectClose(cv.output.data, refConv2d(img, rows, w, f, 3, 3), TOLERANCE.matmul(9));
  });

  gpuIt('sort: ranges up to one binding run, longer ones are refused naming the range', async () => {
    const xs = withSpecials(SIZES.prime, 310);
    const call = kernelCall('sort', [tensor(xs)]);
    await expect(small.run(call)).rejects.toMatchObject({ argument: 'range', code: 'ERR_TANDEM_INVALID_ARGUMENT' });
    await runSplit(call, 10, small); // 792 elements each, under the limit
    expectSameFloats(call.output.data, refSort(xs));
  });

  gpuIt('matmul with a B larger than one binding, and conv2d with a larger filter, are refused clearly', async () => {
    const b = tensor(random(40 * 30), [40, 30]); // 4800 bytes
    const mm = kernelCall('matmul', [tensor(random(80), [2, 40]), b]);
    const err = await small.run(mm).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArgumentError);
    expect(err).toMatchObject({ argument: 'args[1]' });
    expect((err as Error).message).toMatch(/maxStorageBufferBindingSize/);
    const cv = kernelCall('conv2d', [tensor(random(100), [10, 10]), tensor(random(33 * 33), [33, 33])]);
    await expect(small.run(cv)).rejects.toMatchObject({ argument: 'args[1]' });
  });
});

describe('webgpu backend: dispatch grid lowered to 64 workgroups per dimension (2-D grids)', () => {
  let narrow: WebGpuBackend;
  beforeAll(async () => {
    if (!probe.available) return;
    narrow = new WebGpuBackend({ maxWorkgroupsPerDimension: 64 });
    await narrow.init();
  });
  afterAll(async () => {
    await narrow?.dispose();
  });

  gpuIt('every kernel gives what the full grid gives, over 2-D grids', async () => {
    const n = 300_007; // 1172 workgroups of 256: an 64 x 19 grid, and 74 scan/sort blocks
    for (const call of [...everyKernel(n, 600), kernelCall('matmul', [tensor(random(80), [10, 8]), tensor(random(8 * 5000), [8, 5000])])]) {
      const spec = kernelSpec(call.kernel);
      const wide = again(call);
      const p = await gpu.run(wide);
      const grid = again(call);
      const q = await narrow.run(grid);
      if (call.kernel === 'histogram') expect(q).toEqual(p);
      else if (spec.split === 'reduce') expectClose(q!, p!, TOLERANCE.reduce(call.kernel, (call.args[0] as Tensor).data));
      else expectSameFloats(grid.output.data, wide.output.data, call.kernel);
    }
  }, 60_000);
});

describe('webgpu backend: residency, transfers, caches', () => {
  gpuIt('uploads an input once while its residency says the device copy is current', async () => {
    const x = tensor(random(5000, 400));
    const y = tensor(random(5000, 401));
    const t0 = gpu.transfers();
    const c1 = kernelCall('add', [x, y]);
    await gpu.run(c1);
    const t1 = gpu.transfers();
    expect(t1.uploads - t0.uploads).toBe(2);
    expect(t1.uploadBytes - t0.uploadBytes).toBe(2 * 5000 * 4);
    expect(t1.downloads - t0.downloads).toBe(1);
    expect(t1.downloadBytes - t0.downloadBytes).toBe(5000 * 4);
    expect(x.residency.isValidOn(ID)).toBe(true);
    expect(c1.output.residency.isValidOn(ID) && c1.output.residency.isValidOn(HOST)).toBe(true);

    await gpu.run(kernelCall('mul', [x, y]));
    expect(gpu.transfers().uploads).toBe(t1.uploads); // both resident

    // The output stays on the device: chaining it costs no upload.
    const c3 = kernelCall('sub', [c1.output, x]);
    await gpu.run(c3);
    expect(gpu.transfers().uploads).toBe(t1.uploads);
    expectClose(c3.output.data, y.data, { rtol: 1e-6, atol: 1e-6 });

    // A write on the host invalidates the device copy.
    x.data[0] = 42;
    x.residency.wroteOn(HOST);
    const c4 = kernelCall('neg', [x]);
    await gpu.run(c4);
    expect(gpu.transfers().uploads).toBe(t1.uploads + 1);
    expect(c4.output.data[0]).toBe(-42);

    // upload(): once, then a no-op.
    const z = tensor(random(100, 402));
    const u0 = gpu.transfers().uploads;
    await gpu.upload(z);
    await gpu.upload(z);
    expect(gpu.transfers().uploads).toBe(u0 + 1);
    expect(z.residency.isValidOn(ID)).toBe(true);
  });

  gpuIt('a partial write leaves no device copy of the output behind', async () => {
    const x = tensor(random(1000, 410));
    const call = kernelCall('abs', [x]);
    await gpu.run(call, { start: 0, end: 500 });
    // The residency says this device wrote the output, but only half of it is on the device:
    // the rest arrives in host memory (as another device's range would).
    call.output.data.fill(3, 500);
    const u = gpu.transfers().uploads;
    const next = kernelCall('neg', [call.output]);
    await gpu.run(next);
    expect(gpu.transfers().uploads).toBe(u + 1);
    expect(next.output.data[999]).toBe(-3);
  });

  gpuIt('past the resident budget, least recently used copies are dropped and uploaded again', async () => {
    const tight = new WebGpuBackend({ residentBytes: 0 });
    await tight.init();
    try {
      const x = tensor(random(10_000, 430));
      const u0 = tight.transfers().uploads;
      for (let i = 0; i < 3; i++) {
        const call = kernelCall('neg', [x]);
        await tight.run(call);
        expect(call.output.data[17]).toBe(-x.data[17]!);
      }
      // Each run's output (kept as the newest copy) evicts the input: three uploads.
      expect(tight.transfers().uploads - u0).toBe(3);
    } finally {
      await tight.dispose();
    }
  });

  gpuIt('runs issued concurrently all complete correctly', async () => {
    const xs = random(50_000, 440);
    const x = tensor(xs);
    const calls = [
      ...UNARY_KERNELS.map((op) => kernelCall(op, [x])),
      kernelCall('sort', [x]), kernelCall('cumsum', [x]), kernelCall('matmul', [tensor(xs.subarray(0, 200 * 250), [200, 250]), tensor(xs.subarray(0, 250 * 40), [250, 40])]),
    ];
    const sums = [kernelCall('sum', [x]), kernelCall('max', [x])];
    const results = await Promise.all([...calls, ...sums].map((c) => gpu.run(c)));
    for (const [i, op] of UNARY_KERNELS.entries()) {
      const f = refUnary[op];
      expectClose(calls[i]!.output.data, mapIndex(xs.length, (j) => f(xs[j]!)), TOLERANCE.transcendental);
    }
    expectSameFloats(calls[UNARY_KERNELS.length]!.output.data, refSort(xs));
    expectClose(calls[UNARY_KERNELS.length + 1]!.output.data, refCumsum(xs), scanTolerance(xs));
    expectClose(calls[UNARY_KERNELS.length + 2]!.output.data, refMatmul(xs.subarray(0, 200 * 250), xs.subarray(0, 250 * 40), 200, 250, 40), TOLERANCE.matmul(250));
    expectClose(results.at(-2)!, [refReduce('sum', xs)], TOLERANCE.sum(xs));
    expect(results.at(-1)).toEqual([refReduce('max', xs)]);
  });

  gpuIt('compiles each pipeline once and reuses pooled buffers', async () => {
    const x = tensor(random(3000, 420));
    await gpu.run(kernelCall('sigmoid', [x]));
    const s0 = gpu.stats();
    for (let i = 0; i < 5; i++) await gpu.run(kernelCall('sigmoid', [x]));
    const s1 = gpu.stats();
    expect(s1.pipelines).toBe(s0.pipelines);
    expect(s1.buffersReused).toBeGreaterThan(s0.buffersReused);
  });
});

describe('webgpu backend: device loss', () => {
  gpuIt('destroying the device mid-run marks it lost and fails the pending and later runs fast', async () => {
    const victim = new WebGpuBackend();
    await victim.init();
    const s = 768;
    const call = kernelCall('matmul', [tensor(random(s * s, 500), [s, s]), tensor(random(s * s, 501), [s, s])]);
    await victim.run(kernelCall('sort', [tensor(random(1 << 20, 502))])); // warm: pipelines compiled
    // Destroyed once the matmul's first input is on the device: its work can't have finished,
    // however fast the GPU (a fixed delay could let a fast one finish first).
    let destroyed = false;
    const destroyOnUpload = (e: RunEvent) => {
      if (e.kind !== 'upload' || destroyed) return;
      destroyed = true;
      victim.gpuDevice.destroy();
    };
    const sortInput = random(1 << 20, 503);
    const sortCall = kernelCall('sort', [tensor(sortInput)]);
    const pending = [victim.run(call, undefined, { observe: destroyOnUpload }), victim.run(sortCall)];
    const [matmul, sort] = await Promise.all(pending.map((p) => p.then(() => 'resolved', (e: unknown) => e)));
    // The matmul lost its device before its work was submitted: it must fail, and say why.
    expect(matmul).toBeInstanceOf(DeviceLostError);
    expect(matmul).toMatchObject({ code: 'ERR_TANDEM_DEVICE_LOST', device: ID });
    // The sort ran beside it: on a loaded machine its work may have finished on the device before
    // the loss. Either it fails the same way, or its result is whole and right — never wrong, never pending.
    const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    if (sort === 'resolved') expect(bytes(sortCall.output.data as Float32Array).equals(bytes(Float32Array.from(sortInput).sort()))).toBe(true);
    else expect(sort).toMatchObject({ code: 'ERR_TANDEM_DEVICE_LOST', device: ID });
    expect(destroyed).toBe(true);
    expect(victim.health()).toBe('lost');
    // Later work fails without touching the device: nothing moves, nothing is reported.
    const before = victim.transfers();
    const events: RunEvent[] = [];
    await expect(victim.run(kernelCall('neg', [tensor([1])]), undefined, { observe: (e) => events.push(e) })).rejects.toBeInstanceOf(DeviceLostError);
    await expect(victim.upload(tensor([1]))).rejects.toBeInstanceOf(DeviceLostError);
    expect(victim.transfers()).toEqual(before);
    expect(events).toEqual([]);
    await victim.dispose();
  }, 30_000);

  gpuIt('dispose() also fails later runs with DeviceLostError', async () => {
    const b = new WebGpuBackend();
    await b.init();
    await b.dispose();
    expect(b.health()).toBe('lost');
    await expect(b.run(kernelCall('neg', [tensor([1])]))).rejects.toMatchObject({ code: 'ERR_TANDEM_DEVICE_LOST' });
  });
});
