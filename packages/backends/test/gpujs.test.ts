/**
 * The gpujs backend on the real Dawn adapter (lavapipe here): user kernels, built-ins against the
 * harness's float64 references at every size, sub-ranges, residency, the CPU-fallback detector,
 * and device loss. Device loss destroys gpu.js's shared device, so it runs last.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ArgumentError, BackendUnavailableError, DeviceLostError, HOST, Tensor, kernel } from '@tandem/core';
import {
  BINARY_KERNELS, REDUCE_KERNELS, UNARY_KERNELS, kernelCall, kernelSpec, splitRange, userCall, type KernelCall,
  type PartialResult, type RunEvent,
} from '@tandem/core/backend';
import { userKernelSpec } from '@tandem/core/internal/kernel/user';
import { GpuJsBackend, KernelUnsupportedError, notOnWebGpu, offsetSource } from '../src/gpujs/index.ts';
import { loadGpuJs, type KernelShortcut } from '../src/gpujs/runtime.ts';
import {
  SIZES,
  TOLERANCE,
  expectClose,
  gpuOrSkip,
  random,
  refBinary,
  refConv2d,
  refMatmul,
  refReduce,
  refUnary,
  tensor,
  withSpecials,
} from './harness.ts';

const backend = new GpuJsBackend();
const gate = await gpuOrSkip(() => backend.init());
const gpu = describe.skipIf(!gate.available);
afterAll(() => backend.dispose());

const TRANSCENDENTAL = new Set(['exp', 'log', 'sigmoid', 'tanh']);
/** a·x + y is rounded twice in f32 (or fused): absolute error up to an ulp of a·x. */
const SAXPY_TOLERANCE = { rtol: 2e-6, atol: 2e-6 };

/** Wall time of `f`, logged so the report can quote what each large case costs. */
async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await f();
  console.log(`[gpujs] ${label}: ${(performance.now() - t0).toFixed(0)} ms`);
  return out;
}

/** `f` over `x` in float64 (`Float64Array.from` with a map function takes 5 s for 16M elements). */
function mapRef(x: ArrayLike<number>, f: (v: number, i: number) => number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!, i);
  return out;
}

/** Bitwise equality (NaN included) without vitest's diff, which can't take 16M elements. */
function expectSame(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  let first = -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== e[i]) { first = i; break; }
  expect(first, first < 0 ? '' : `first difference at [${first}]: ${actual[first]} vs ${expected[first]}`).toBe(-1);
}

/** Runs `call` once per range of `parts` (aligned as its spec says) and merges, as the session does. */
async function runInParts(call: KernelCall, parts: number): Promise<PartialResult | undefined> {
  const spec = call.kernel === 'user' ? userKernelSpec : kernelSpec(call.kernel);
  const ranges = splitRange(spec.extent(call), parts, spec.align?.(call) ?? 1);
  const partials = await Promise.all(ranges.map((r) => backend.run(call, r)));
  spec.merge?.(call, ranges, partials);
  return spec.split === 'reduce' ? [call.output.data[0]!] : undefined;
}

const saxpy = kernel('saxpy', function (x: number[], y: number[], a: number) {
  return a * x[this.thread.x]! + y[this.thread.x]!;
});

// Reads this.output.y too: a sub-range run must still see the whole image's height.
const blur = kernel('blur3x3', function (img: number[][]) {
  let s = 0;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const yy = this.thread.y + dy;
      const xx = this.thread.x + dx;
      if (yy >= 0 && yy < this.output.y && xx >= 0 && xx < this.output.x) s += img[yy]![xx]!;
    }
  }
  return s / 9;
});

function refBlur(img: Float32Array, h: number, w: number): Float64Array {
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) s += img[yy * w + xx]!;
        }
      }
      out[y * w + x] = s / 9;
    }
  }
  return out;
}

/** Image shapes [h, w] per size; the large one has ≥ 16M pixels. */
const IMAGES: Record<keyof typeof SIZES, [number, number]> = { empty: [0, 7], one: [1, 1], prime: [1, 7919], ragged: [25, 40], large: [4097, 4097] };

gpu('gpujs backend: device', () => {
  it('describes gpu.js on the WebGPU adapter, and says exactly which kernels it has', () => {
    const d = backend.device;
    expect(d).toMatchObject({ id: 'gpujs:0', backend: 'gpujs', kind: 'gpu', lanes: 1 });
    expect(d.description).toMatch(/^gpu\.js webgpu on /);
    expect(d.limits.maxBindingBytes).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(backend.health()).toBe('ok');
    for (const k of [...UNARY_KERNELS, ...BINARY_KERNELS, ...REDUCE_KERNELS, 'saxpy', 'matmul', 'conv2d', 'user']) expect(backend.supports(k), k).toBe(true);
    for (const k of ['histogram', 'cumsum', 'sort', 'nope']) expect(backend.supports(k), k).toBe(false);
  });
});

gpu('gpujs backend: user kernels', () => {
  for (const [label, n] of Object.entries(SIZES)) {
    it(`saxpy (1-D) at ${label} (${n}) matches JS, and its sub-ranges match the whole run`, async () => {
      const x = tensor(random(n, 1));
      const y = tensor(random(n, 2));
      const call = userCall(saxpy, [x, y, 2.5], [n]);
      await timed(`user saxpy n=${n}`, () => backend.run(call));
      const ref = new Float64Array(n);
      for (let i = 0; i < n; i++) ref[i] = 2.5 * x.data[i]! + y.data[i]!;
      expectClose(call.output.data, ref, SAXPY_TOLERANCE);

      const parts = userCall(saxpy, [x, y, 2.5], [n]);
      await timed(`user saxpy n=${n} in 3 ranges`, () => runInParts(parts, 3));
      expectSame(parts.output.data as Float32Array, call.output.data as Float32Array);
    });
  }

  it('offsets past 2^24 exactly (the offset is integer arithmetic, not f32)', async () => {
    const n = SIZES.large;
    const x = tensor(Float32Array.from({ length: n }, (_, i) => i % 4096));
    const y = tensor(new Float32Array(n));
    const call = userCall(saxpy, [x, y, 1], [n]);
    await backend.run(call, { start: n - 3, end: n });
    expect(Array.from(call.output.data.subarray(n - 4))).toEqual([0, (n - 3) % 4096, (n - 2) % 4096, (n - 1) % 4096]);
  });

  for (const [label, [h, w]] of Object.entries(IMAGES)) {
    it(`3x3 blur (2-D) at ${label} [${h}, ${w}] matches JS, and row ranges match the whole run`, async () => {
      const img = tensor(random(h * w, 3), [h, w]);
      const call = userCall(blur, [img], [w, h]);
      await timed(`user blur ${h}x${w}`, () => backend.run(call));
      // A sum of 9 terms, rounded in f32 at each step: the tolerance of a 9-term dot product.
      expectClose(call.output.data, refBlur(img.data, h, w), TOLERANCE.matmul(9));

      const parts = userCall(blur, [img], [w, h]);
      await timed(`user blur ${h}x${w} in 3 row ranges`, () => runInParts(parts, 3));
      expectSame(parts.output.data as Float32Array, call.output.data as Float32Array);
    });
  }

  it('3-D kernels run by planes, with constants, and a plane range matches the whole run', async () => {
    const [nx, ny, nz] = [4, 3, 5];
    const vol = tensor(random(nx * ny * nz, 4), [nz, ny, nx]);
    const k = kernel('vol', function (v: number[][][]) {
      return v[this.thread.z]![this.thread.y]![this.thread.x]! * this.constants.scale! + this.thread.z * 100 + this.output.z;
    }, { scale: 3 });
    const call = userCall(k, [vol], [nx, ny, nz]);
    await backend.run(call);
    const ref = new Float64Array(nx * ny * nz);
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
      const i = (z * ny + y) * nx + x;
      ref[i] = vol.data[i]! * 3 + z * 100 + nz;
    }
    expectClose(call.output.data, ref, TOLERANCE.elementwise);
    const part = userCall(k, [vol], [nx, ny, nz]);
    await backend.run(part, { start: 2 * nx * ny, end: 4 * nx * ny });
    expectSame(part.output.data.subarray(2 * nx * ny, 4 * nx * ny) as Float32Array, call.output.data.subarray(2 * nx * ny, 4 * nx * ny) as Float32Array);
    expect(part.output.data[0]).toBe(0);
  });

  it('rewrites only the outermost axis of the source', () => {
    const src = 'function (a, b) { return a[this.thread.y][this.thread.x] + this.output.y + this.output.x; }';
    expect(offsetSource(src, 2)).toBe(
      'function (a, b, tandemOffset, tandemOuter) { return a[(this.thread.y + tandemOffset)][this.thread.x] + tandemOuter + this.output.x; }',
    );
    expect(offsetSource('function named() { return this.thread.x; }', 1)).toBe('function named(tandemOffset, tandemOuter) { return (this.thread.x + tandemOffset); }');
  });
});

gpu('gpujs backend: built-in kernels', () => {
  for (const [label, n] of Object.entries(SIZES)) {
    // One pair of inputs per size, shared by the two tests: the second finds x on the device already.
    let inputs: { x: Tensor<'float32'>; y: Tensor<'float32'> } | undefined;
    const shared = () => (inputs ??= { x: tensor(withSpecials(n, 11)), y: tensor(withSpecials(n, 12)) });

    it(`unary kernels at ${label} (${n}), NaN/±Inf included, match the references`, { timeout: 120_000 }, async () => {
      const { x } = shared();
      const before = backend.transfers().uploads;
      const t0 = performance.now();
      for (const name of UNARY_KERNELS) {
        const call = kernelCall(name, [x]);
        await backend.run(call);
        expectClose(call.output.data, mapRef(x.data, refUnary[name]), TRANSCENDENTAL.has(name) ? TOLERANCE.transcendental : TOLERANCE.elementwise);
      }
      console.log(`[gpujs] 8 unary kernels + references at n=${n}: ${(performance.now() - t0).toFixed(0)} ms`);
      // x went to the device once for all 8 (an empty run sends nothing).
      expect(backend.transfers().uploads - before).toBe(n === 0 ? 0 : 1);
    });

    it(`binary kernels (tensor and scalar) and saxpy at ${label} (${n}), NaN/±Inf included, match the references`, { timeout: 120_000 }, async () => {
      const { x, y } = shared();
      const before = backend.transfers().uploads;
      const t0 = performance.now();
      for (const name of BINARY_KERNELS) {
        const call = kernelCall(name, [x, y]);
        await backend.run(call);
        expectClose(call.output.data, mapRef(x.data, (v, i) => refBinary[name](v, y.data[i]!)), TOLERANCE.elementwise);
        // The scalar variant is the same kernel with a uniform for y: at the large size it runs over
        // the 1M elements either side of 2^24 only, to keep this file within its time budget.
        const scalar = kernelCall(name, [x, -1.5]);
        const r = n > 1 << 22 ? { start: (1 << 24) - (1 << 20), end: n } : { start: 0, end: n };
        await backend.run(scalar, r);
        const xs = x.data.subarray(r.start, r.end);
        expectClose(scalar.output.data.subarray(r.start, r.end), mapRef(xs, (v) => refBinary[name](v, -1.5)), TOLERANCE.elementwise);
      }
      const sx = kernelCall('saxpy', [x, y, 2.5]);
      await backend.run(sx);
      expectClose(sx.output.data, mapRef(x.data, (v, i) => 2.5 * v + y.data[i]!), SAXPY_TOLERANCE);
      console.log(`[gpujs] 13 binary/saxpy kernels + references at n=${n}: ${(performance.now() - t0).toFixed(0)} ms`);
      // Only y was sent: x is still current on the device from the unary kernels.
      expect(backend.transfers().uploads - before).toBe(n === 0 ? 0 : 1);
      inputs = undefined;
    });
  }

  it('scalars NaN, ±Inf and 0 pass through binary kernels as IEEE-754 says', async () => {
    const x = tensor([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0, 2, -0]);
    for (const s of [0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const name of BINARY_KERNELS) {
        const call = kernelCall(name, [x, s]);
        await backend.run(call);
        expectClose(call.output.data, mapRef(x.data, (v) => refBinary[name](v, s)), TOLERANCE.elementwise);
      }
    }
  });

  it('elementwise kernels take tensors of any rank (they index flat)', async () => {
    const x = tensor(random(2 * 3 * 4 * 5, 14), [2, 3, 4, 5]);
    const call = kernelCall('tanh', [x]);
    await backend.run(call);
    expectClose(call.output.data, mapRef(x.data, Math.tanh), TOLERANCE.transcendental);
  });

  it('elementwise sub-ranges match the whole run', async () => {
    const x = tensor(withSpecials(SIZES.prime, 13));
    for (const name of ['exp', 'relu', 'maximum'] as const) {
      const args = name === 'maximum' ? [x, 0.25] : [x];
      const whole = kernelCall(name, args);
      await backend.run(whole);
      const parts = kernelCall(name, args);
      await runInParts(parts, 4);
      expectSame(parts.output.data as Float32Array, whole.output.data as Float32Array);
    }
  });

  const MATMULS: Record<keyof typeof SIZES, [number, number, number]> = {
    empty: [0, 8, 3],
    one: [1, 1, 1],
    prime: [7919, 3, 2],
    ragged: [40, 25, 33],
    large: [(1 << 21) + 3, 8, 3],
  };
  for (const [label, [m, k, n]] of Object.entries(MATMULS)) {
    it(`matmul at ${label} [${m}, ${k}] x [${k}, ${n}] matches refMatmul, and row ranges match the whole run`, async () => {
      const a = tensor(label === 'prime' ? withSpecials(m * k, 21) : random(m * k, 21), [m, k]);
      const b = tensor(random(k * n, 22), [k, n]);
      const call = kernelCall('matmul', [a, b]);
      await timed(`matmul [${m}, ${k}] x [${k}, ${n}]`, () => backend.run(call));
      expectClose(call.output.data, refMatmul(a.data, b.data, m, k, n), TOLERANCE.matmul(k));
      const parts = kernelCall('matmul', [a, b]);
      await runInParts(parts, 3);
      expectSame(parts.output.data as Float32Array, call.output.data as Float32Array);
    });
  }

  it('matmul 1024 x 1024 (timed for the report)', { timeout: 120_000 }, async () => {
    const N = 1024;
    const a = tensor(random(N * N, 31), [N, N]);
    const b = tensor(random(N * N, 32), [N, N]);
    await backend.upload(a);
    await backend.upload(b);
    const call = kernelCall('matmul', [a, b]);
    const t0 = performance.now();
    await backend.run(call);
    const ms = performance.now() - t0;
    console.log(`[gpujs] matmul 1024: ${ms.toFixed(0)} ms, ${((2 * N ** 3) / ms / 1e6).toFixed(2)} GFLOP/s (inputs resident; compile and readback included)`);
    const rows = [0, 517, 1023];
    for (const r of rows) {
      const ref = refMatmul(a.data.subarray(r * N, (r + 1) * N), b.data, 1, N, N);
      expectClose(call.output.data.subarray(r * N, (r + 1) * N), ref, TOLERANCE.matmul(N));
    }
  });

  for (const [label, [h, w]] of Object.entries(IMAGES)) {
    it(`conv2d at ${label} [${h}, ${w}] matches refConv2d, and row ranges match the whole run`, async () => {
      const [kh, kw] = label === 'ragged' ? [5, 3] : label === 'one' ? [1, 1] : [3, 3];
      const img = tensor(label === 'ragged' ? withSpecials(h * w, 41) : random(h * w, 41), [h, w]);
      const f = tensor(random(kh * kw, 42), [kh, kw]);
      const call = kernelCall('conv2d', [img, f]);
      await timed(`conv2d ${h}x${w} * ${kh}x${kw}`, () => backend.run(call));
      expectClose(call.output.data, refConv2d(img.data, h, w, f.data, kh, kw), TOLERANCE.matmul(kh * kw));
      const parts = kernelCall('conv2d', [img, f]);
      await runInParts(parts, 3);
      expectSame(parts.output.data as Float32Array, call.output.data as Float32Array);
    });
  }

  for (const [label, n] of Object.entries(SIZES)) {
    it(`sum, min, max, mean at ${label} (${n}) match refReduce over 1 and 3 ranges, with and without NaN/±Inf`, async () => {
      for (const values of [random(n, 51), withSpecials(n, 52)]) {
        const x = tensor(values);
        for (const name of REDUCE_KERNELS) {
          const ref = refReduce(name, values);
          const tol = TOLERANCE.reduce(name, values);
          const whole = kernelCall(name, [x]);
          const [partial] = (await timed(`${name} n=${n}`, () => backend.run(whole))) as PartialResult;
          kernelSpec(name).merge!(whole, [{ start: 0, end: n }], [[partial!]]);
          expectClose([whole.output.data[0]!], [ref], tol);
          const parts = kernelCall(name, [x]);
          const merged = await runInParts(parts, 3);
          expectClose(merged!, [ref], tol);
        }
      }
    });
  }
});

gpu('gpujs backend: residency and transfers', () => {
  it('uploads an input once, keeps a whole output on the device for the next kernel, and re-uploads after a host write', async () => {
    const x = tensor(random(4096, 61));
    const s0 = backend.transfers();
    await backend.upload(x);
    await backend.upload(x);
    expect(backend.transfers().uploads - s0.uploads).toBe(1);
    expect(backend.transfers().uploadBytes - s0.uploadBytes).toBe(4096 * 4);
    expect(x.residency.isValidOn('gpujs:0')).toBe(true);

    const e = kernelCall('exp', [x]);
    await backend.run(e);
    expect(e.output.residency.isValidOn('gpujs:0')).toBe(true);
    expect(e.output.residency.isValidOn(HOST)).toBe(true);
    const l = kernelCall('log', [e.output]);
    await backend.run(l);
    expect(backend.transfers().uploads - s0.uploads).toBe(1);
    expect(backend.transfers().downloads - s0.downloads).toBe(2);
    expect(backend.transfers().downloadBytes - s0.downloadBytes).toBe(2 * 4096 * 4);
    expectClose(l.output.data, x.data, TOLERANCE.transcendental);

    x.data[0] = 1;
    x.residency.wroteOn(HOST);
    const again = kernelCall('neg', [x]);
    await backend.run(again);
    expect(backend.transfers().uploads - s0.uploads).toBe(2);
    expect(again.output.data[0]).toBe(-1);
  });

  it('a sub-range run does not leave a partial device copy behind', async () => {
    const x = tensor(random(1000, 62));
    const out = kernelCall('neg', [x]);
    await backend.run(out, { start: 0, end: 500 });
    const next = kernelCall('neg', [out.output]);
    const before = backend.transfers().uploads;
    await backend.run(next);
    expect(backend.transfers().uploads - before).toBe(1);
    expectClose(next.output.data.subarray(0, 500), x.data.subarray(0, 500), TOLERANCE.elementwise);
  });
});

gpu('gpujs backend: tensors of other dtypes', () => {
  it('converts int32 and float64 arguments to f32 on upload rather than refusing the call', async () => {
    const ints = userCall(saxpy, [Tensor.from([1, 2, -3], [3], 'int32'), tensor([0.5, 0.5, 0.5]), 2], [3]);
    await backend.run(ints);
    expect([...ints.output.data]).toEqual([2.5, 4.5, -5.5]);
    const wide = userCall(saxpy, [Tensor.from([1e-3, 1 / 3, 123456.789], [3], 'float64'), tensor([0, 0, 0]), 1], [3]);
    await backend.run(wide);
    expect([...wide.output.data]).toEqual([...Float32Array.from([1e-3, 1 / 3, 123456.789])]);
  });
});

gpu('gpujs backend: errors', () => {
  it('names the bad argument', async () => {
    const a = tensor(random(6, 71), [2, 3]);
    const bad = (call: KernelCall, range?: { start: number; end: number }) => backend.run(call, range);
    await expect(bad({ kernel: 'add', args: [a, tensor(random(5, 1))], params: {}, output: Tensor.zeros([2, 3]) })).rejects.toMatchObject({
      code: 'ERR_TANDEM_INVALID_ARGUMENT',
      argument: 'args[1].shape',
    });
    await expect(bad({ kernel: 'neg', args: [a], params: {}, output: Tensor.zeros([3, 2]) })).rejects.toMatchObject({ argument: 'call.output' });
    await expect(bad(kernelCall('matmul', [a, tensor(random(6, 72), [3, 2])]), { start: 1, end: 4 })).rejects.toMatchObject({ argument: 'range' });
    await expect(bad(userCall(saxpy, [tensor([1, 2], [1, 1, 1, 2]), tensor([1, 2]), 1], [2]))).rejects.toMatchObject({ argument: 'args[0].shape' });
    await expect(bad(kernelCall('sort', [tensor([3, 1, 2])]))).rejects.toBeInstanceOf(ArgumentError);
    await expect(new GpuJsBackend().run(kernelCall('neg', [a]))).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});

gpu('gpujs backend: never a CPU run reported as a GPU one', () => {
  it('the detector tells a real gpu.js CPU run from a WebGPU one', async () => {
    const { GPU } = await loadGpuJs();
    const source = 'function (a) { return a[this.thread.x] * 2; }';
    const cpuKernel = new GPU({ mode: 'cpu' }).createKernel(source, {} as never).setOutput([3]);
    const cpuResult = cpuKernel(new Float32Array([1, 2, 3]));
    expect(Array.from(cpuResult as Float32Array)).toEqual([2, 4, 6]);
    expect(notOnWebGpu(cpuKernel, cpuResult)).toMatch(/'cpu' mode, not 'webgpu'/);

    const gpuKernel = new GPU({ mode: 'webgpu' }).createKernel(source, { pipeline: true } as never).setOutput([3]) as KernelShortcut;
    const gpuResult = await gpuKernel(new Float32Array([1, 2, 3]));
    expect(notOnWebGpu(gpuKernel, gpuResult)).toBeUndefined();
    // Same kernel, plain (non-pipeline) result: host data is no proof of a GPU run.
    expect(notOnWebGpu(gpuKernel, new Float32Array(3))).toMatch(/host data/);
  });

  it('a kernel gpu.js cannot compile to WGSL is rejected clearly, remembered, and never run on the CPU', async () => {
    const bad = kernel('nanTest', function (x: number[]) {
      return Number.isNaN(x[this.thread.x]) ? 1 : 0;
    });
    const call = userCall(bad, [tensor([1, Number.NaN])], [2]);
    const error = await backend.run(call).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KernelUnsupportedError);
    expect(error).toMatchObject({ code: 'ERR_TANDEM_KERNEL_UNSUPPORTED', kernel: 'nanTest' });
    expect((error as Error).message).toMatch(/can't run on the GPU: gpu.js could not build it for WebGPU/);
    expect(Array.from(call.output.data)).toEqual([0, 0]);
    expect(backend.unsupported(call)).toMatch(/could not build it/);
    // The first failure carries gpu.js's error; a remembered one is not tried again, so has none.
    expect((error as Error).cause).toBeDefined();
    const again = await backend.run(call).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(KernelUnsupportedError);
    expect((again as Error).message).toBe((error as Error).message);
    expect((again as Error).cause).toBeUndefined();
    expect(backend.health()).toBe('ok');
  });

  it('a kernel returning a vector is rejected: the output holds one number per element', async () => {
    const vec = kernel('vec', function () {
      return [1, 2] as unknown as number;
    });
    await expect(backend.run(userCall(vec, [], [4]))).rejects.toThrow(/returns Array\(2\)/);
  });
});

gpu('gpujs backend: watchdog and device loss (last: destroys gpu.js\'s device)', () => {
  it('a run that outlasts the watchdog rejects with DeviceLostError instead of hanging', async () => {
    const impatient = new GpuJsBackend({ timeoutMs: 1 });
    await impatient.init();
    const n = 1 << 20;
    const call = kernelCall('sqrt', [tensor(random(n, 81))]);
    await expect(impatient.run(call)).rejects.toMatchObject({ code: 'ERR_TANDEM_DEVICE_LOST', message: expect.stringMatching(/did not finish within 1 ms/) });
    expect(impatient.health()).toBe('lost');
    await impatient.dispose();
    expect(backend.health()).toBe('ok');
  });

  it('after gpu.js\'s device is destroyed: in-flight and later runs reject fast, health is lost, a new backend recovers', async () => {
    const N = 512;
    const call = kernelCall('matmul', [tensor(random(N * N, 91), [N, N]), tensor(random(N * N, 92), [N, N])]);
    const { WebGPUContext } = await loadGpuJs();
    // Destroyed once an input is on the device, before the matmul can have finished however fast the GPU.
    let destroyed: Promise<unknown> | undefined;
    const inFlight = backend.run(call, undefined, {
      observe: (e) => {
        if (e.kind === 'upload') destroyed ??= WebGPUContext.destroy();
      },
    });
    await expect(inFlight).rejects.toBeInstanceOf(DeviceLostError);
    expect(destroyed).toBeDefined();
    await destroyed;
    // Later runs fail without touching the device: nothing moves, nothing is reported.
    const before = backend.transfers();
    const events: RunEvent[] = [];
    await expect(backend.run(kernelCall('neg', [tensor([1])]), undefined, { observe: (e) => events.push(e) })).rejects.toMatchObject({ code: 'ERR_TANDEM_DEVICE_LOST' });
    expect(backend.transfers()).toEqual(before);
    expect(events).toEqual([]);
    expect(backend.health()).toBe('lost');

    const fresh = new GpuJsBackend();
    await fresh.init();
    const neg = kernelCall('neg', [tensor([1, -2])]);
    await fresh.run(neg);
    expect(Array.from(neg.output.data)).toEqual([-1, 2]);
    await fresh.dispose();
  });
});
