/**
 * User kernels give the same answer on the cpu and gpujs backends, or a clear refusal: nested
 * array arguments, loops bounded by arguments, IEEE specials, destructured `this.thread` over
 * several dispatches, helpers (inner, `functions`, TypeScript-compiled), `++`/`--`, booleans and
 * array constants. Each case runs on both backends against a float64 reference.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ArgumentError, Tensor, WorkerPool, kernel, type UserKernel, type UserKernelArg } from '@tandem/core';
import { userCall, type KernelCall } from '@tandem/core/backend';
import { CpuBackend } from '../src/cpu/index.ts';
import { GpuJsBackend, KernelUnsupportedError } from '../src/gpujs/index.ts';
import { USER_KERNEL_TOLERANCE } from './kernel-corpus/tolerance.ts';
import { expectClose, gpuOrSkip } from './harness.ts';

type This = { thread: { x: number; y: number; z: number }; output: { x: number; y: number; z: number }; constants: Record<string, any> };

let pool: WorkerPool;
let cpu: CpuBackend;
const gpujs = new GpuJsBackend();
const gate = await gpuOrSkip(() => gpujs.init());

beforeAll(async () => {
  pool = new WorkerPool({ workers: 2 });
  cpu = new CpuBackend(pool);
  await cpu.init();
});
afterAll(async () => {
  await gpujs.dispose();
  await pool?.close();
});

const backends = () => (gate.available ? [cpu, gpujs] : [cpu]);

/** Runs the kernel on every backend (in `parts` aligned sub-ranges) and returns each output. */
async function everywhere(k: UserKernel, args: readonly UserKernelArg[], output: [number] | [number, number] | [number, number, number], parts = 1): Promise<Float32Array[]> {
  const outs: Float32Array[] = [];
  for (const b of backends()) {
    const call: KernelCall = userCall(k, args, output);
    const unit = call.output.shape.slice(1).reduce((a, c) => a * c, 1);
    const rows = call.output.shape[0]!;
    for (let p = 0; p < parts; p++) {
      const start = Math.floor((rows * p) / parts) * unit;
      const end = Math.floor((rows * (p + 1)) / parts) * unit;
      await b.run(call, parts === 1 ? undefined : { start, end });
    }
    outs.push(call.output.data as Float32Array);
  }
  return outs;
}

async function expectEverywhere(k: UserKernel, args: readonly UserKernelArg[], output: [number] | [number, number] | [number, number, number], expected: ArrayLike<number>, tol: { rtol: number; atol: number } = USER_KERNEL_TOLERANCE.exact, parts = 1): Promise<void> {
  for (const out of await everywhere(k, args, output, parts)) expectClose(out, expected, tol);
}

describe('nested array arguments', () => {
  it('2-D and 3-D nested arrays are read as a[y][x] and a[z][y][x]', async () => {
    const m = kernel('nested2', function (this: This, a: number[][]) {
      return a[this.thread.y]![this.thread.x]! * 10 + this.thread.y;
    });
    await expectEverywhere(m, [[[1, 2, 3], [4, 5, 6]]], [3, 2], [10, 20, 30, 41, 51, 61]);
    const v = kernel('nested3', function (this: This, a: number[][][]) {
      return a[this.thread.z]![this.thread.y]![this.thread.x]!;
    });
    await expectEverywhere(v, [[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]], [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('a ragged nested array is refused, naming the argument', () => {
    const m = kernel('ragged', function () { return 0; });
    expect(() => userCall(m, [1, [[1, 2], [3]]], [2])).toThrow(ArgumentError);
    expect(() => userCall(m, [1, [[1, 2], [3]]], [2])).toThrow(/args\[1\]\[1\]/);
  });
});

describe('loops run to their own bound', () => {
  it('for with an argument bound, while, do-while and continue past 1000 iterations', async () => {
    const loops = kernel('loops', function (this: This, n: number) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        if (i % 2 === 1) continue;
        s += 1;
      }
      let w = 0;
      while (w < n) w += 1;
      let d = 0;
      do { d += 2; } while (d < n);
      return s * 1e6 + w + d * (this.thread.x + 1);
    });
    await expectEverywhere(loops, [5001], [2], [2501 * 1e6 + 5001 + 5002, 2501 * 1e6 + 5001 + 2 * 5002], USER_KERNEL_TOLERANCE.exact);
  });
});

describe('IEEE specials', () => {
  it('Infinity, -Infinity and division by a literal zero', async () => {
    const specials = kernel('specials', function (this: This, a: number[]) {
      if (this.thread.x === 0) return Infinity;
      if (this.thread.x === 1) return -Infinity;
      return a[this.thread.x]! / 0;
    });
    await expectEverywhere(specials, [[0, 0, 1, -1, 0, -0]], [6], [Infinity, -Infinity, Infinity, -Infinity, NaN, NaN]);
  });

  it('asin, acos and atan2 within the documented tolerance', async () => {
    const xs = [-1, -0.99, -0.5, -0.1, 0, 0.1, 0.5, 0.9, 0.99, 1];
    const trig = kernel('trig', function (this: This, a: number[]) {
      const v = a[this.thread.x % 10]!;
      if (this.thread.x < 10) return Math.asin(v);
      if (this.thread.x < 20) return Math.acos(v);
      return Math.atan2(v, 0.5 - v);
    });
    const ref = [...xs.map(Math.asin), ...xs.map(Math.acos), ...xs.map((v) => Math.atan2(v, 0.5 - v))];
    await expectEverywhere(trig, [xs], [30], ref, USER_KERNEL_TOLERANCE.inverseTrig);
  });
});

describe('destructured this.thread over parts of the output', () => {
  const k = kernel('destructure', function (this: This) {
    const { x, y } = this.thread;
    return y * 1000 + x;
  });
  it('sub-ranges, as the session splits work between devices', async () => {
    const expected = Array.from({ length: 12 * 5 }, (_, i) => Math.floor(i / 5) * 1000 + (i % 5));
    await expectEverywhere(k, [], [5, 12], expected, USER_KERNEL_TOLERANCE.exact, 3);
  });

  it.skipIf(!gate.available)('an output that needs more than one dispatch', { timeout: 300_000 }, async () => {
    // A dispatch writes at most maxBindingBytes of output (runner.ts): one row more needs two.
    const x = 4096;
    const rows = Math.floor(gpujs.device.limits.maxBindingBytes / 4 / x) + 8;
    const call = userCall(k, [], [x, rows]);
    await gpujs.run(call);
    const out = call.output.data;
    let bad = 0;
    for (let y = 0; y < rows; y++) for (let i = 0; i < x; i++) if (out[y * x + i] !== Math.fround(y * 1000 + i)) bad++;
    expect(bad).toBe(0);
  });
});

function scaled(this: any, v: number): number {
  return v * this.output.x + this.thread.x;
}

describe('helper functions', () => {
  it('inner helpers that read this.thread and this.output, over sub-ranges', async () => {
    const k = kernel('inner', function (this: This, a: number[][]) {
      function row(this: any): number { return this.thread.y; }
      function cell(this: any, m: number): number { return m * row() + this.output.y; }
      return cell(a[this.thread.y]![this.thread.x]!);
    });
    const a = [[1, 2], [3, 4], [5, 6], [7, 8]];
    await expectEverywhere(k, [a], [2, 4], [4, 4, 7, 8, 14, 16, 25, 28], USER_KERNEL_TOLERANCE.exact, 2);
  });

  it('the functions option (gpu.js addFunction)', async () => {
    const k = kernel('withHelpers', function (this: This, a: number[]) {
      return scaled(a[this.thread.x]!);
    }, { functions: [scaled] });
    await expectEverywhere(k, [[1, 2, 3]], [3], [3, 7, 11], USER_KERNEL_TOLERANCE.exact, 3);
  });

  it("tsx's __name wrappers around inner helpers", async () => {
    const k = {
      ...kernel('named', function () { return 0; }),
      source: 'function (x) { function inner(v) { return v * 2; } __name(inner, "inner"); return __name(inner, "inner")(x[this.thread.x]) + 1; }',
    };
    await expectEverywhere(k, [[1, 2, 3]], [3], [3, 5, 7]);
  });

  it.skipIf(!gate.available)('array arguments to helpers are refused on gpujs, naming the construct', async () => {
    const k = kernel('arrayHelper', function (this: This, a: number[]) {
      function first(v: number[]): number { return v[0]!; }
      return first(a);
    });
    const error = await gpujs.run(userCall(k, [[1, 2]], [2])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KernelUnsupportedError);
    expect((error as Error).message).toMatch(/array arguments to helper functions/);
  });
});

describe('++ and --', () => {
  it('as statements, on counters and on float locals', async () => {
    const k = kernel('incdec', function (this: This) {
      let v = this.thread.x + 0.5;
      v++;
      v--;
      v--;
      let n = 0;
      for (let i = 10; i > 0; i--) n++;
      return v + n;
    });
    await expectEverywhere(k, [], [3], [9.5, 10.5, 11.5]);
  });

  it.skipIf(!gate.available)('inside an expression: refused on gpujs naming the construct and its line, printing nothing', async () => {
    const k = kernel('incExpr', function (this: This) {
      let i = this.thread.x;
      const j = i++;
      return i + j;
    });
    const spies = (['log', 'warn', 'error'] as const).map((m) => vi.spyOn(console, m));
    try {
      const error = await gpujs.run(userCall(k, [], [2])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KernelUnsupportedError);
      expect((error as Error).message).toMatch(/`i\+\+` inside an expression .* at line \d+/);
      expect(gpujs.unsupported(userCall(k, [], [2]))).toMatch(/`i\+\+` inside an expression/);
      for (const s of spies) expect(s).not.toHaveBeenCalled();
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });
});

it.skipIf(!gate.available)('a kernel whose WGSL does not compile is refused without gpu.js printing the shader error', async () => {
  const k = kernel('boolIntoNumber', function (this: This) {
    let v = 1;
    v = (this.thread.x > 0) as unknown as number;
    return v;
  });
  const spies = (['log', 'warn', 'error'] as const).map((m) => vi.spyOn(console, m));
  try {
    const error = await gpujs.run(userCall(k, [], [2])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KernelUnsupportedError);
    for (const s of spies) expect(s).not.toHaveBeenCalled();
  } finally {
    for (const s of spies) s.mockRestore();
  }
});

describe('booleans and array constants', () => {
  it('boolean arguments and constants, array constants', async () => {
    const k = kernel('flags', function (this: This, on: boolean, a: number[]) {
      const w = this.constants.w[this.thread.x] as number;
      return (on ? w : -w) + (this.constants.twice ? 2 * a[this.thread.x]! : a[this.thread.x]!);
    }, { constants: { w: [1, 2, 3], twice: true } });
    await expectEverywhere(k, [true, [10, 20, 30]], [3], [21, 42, 63]);
    await expectEverywhere(k, [false, [10, 20, 30]], [3], [19, 38, 57]);
  });
});

it('a Tensor argument is unchanged by the nested-array path', () => {
  const t = Tensor.from([1, 2, 3, 4], [2, 2]);
  expect(userCall(kernel('t', function () { return 0; }), [t], [2, 2]).args[0]).toBe(t);
});
