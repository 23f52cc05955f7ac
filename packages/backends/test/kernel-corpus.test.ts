/**
 * The differential corpus: ~170 user kernels written for it, covering gpu.js's documented feature
 * list, each run on the cpu and gpujs backends (whole output, then in three sub-ranges) against a
 * float64 reference, within per-kernel float32 tolerances (kernel-corpus/tolerance.ts). No result
 * may differ silently: a kernel either matches or is refused with a `KernelUnsupportedError`
 * naming the construct, and only where NUMERICS.md ("User kernels") documents that refusal.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WorkerPool } from '@tandem/core';
import { userCall, type Backend, type KernelCall } from '@tandem/core/backend';
import { CpuBackend } from '../src/cpu/index.ts';
import { GpuJsBackend, KernelUnsupportedError } from '../src/gpujs/index.ts';
import { gpuOrSkip } from './harness.ts';
import type { BackendName, Case } from './kernel-corpus/case.ts';
import { branches, loops } from './kernel-corpus/control.ts';
import { helpers } from './kernel-corpus/helpers.ts';
import { math } from './kernel-corpus/math.ts';
import { operators } from './kernel-corpus/operators.ts';
import { reference } from './kernel-corpus/reference.ts';
import { shapes } from './kernel-corpus/shapes.ts';
import { ieee, large } from './kernel-corpus/specials.ts';

const GROUPS: Record<string, Case[]> = { operators, math, loops, branches, shapes, helpers, ieee, large };

let pool: WorkerPool;
let cpu: CpuBackend;
const gpujs = new GpuJsBackend();
const gate = await gpuOrSkip(() => gpujs.init());
const tally: Record<BackendName, { matched: number; documented: string[]; refused: string[]; mismatched: number }> = {
  cpu: { matched: 0, documented: [], refused: [], mismatched: 0 },
  gpujs: { matched: 0, documented: [], refused: [], mismatched: 0 },
};

beforeAll(async () => {
  pool = new WorkerPool({ workers: 2 });
  cpu = new CpuBackend(pool);
  await cpu.init();
});
afterAll(async () => {
  for (const [name, t] of Object.entries(tally)) {
    console.log(`[corpus] ${name}: ${t.matched} matched (${t.documented.length} of them a documented difference: ${t.documented.join(', ')}), ${t.refused.length} refused clearly (${t.refused.join(', ')}), ${t.mismatched} mismatched`);
  }
  await gpujs.dispose();
  await pool?.close();
});

const references = new Map<Case, Float64Array>();
const referenceOf = (c: Case) => references.get(c) ?? references.set(c, reference(c)).get(c)!;
const F32_MAX = 3.4028234663852886e38;

/**
 * The first few elements outside tolerance; NaN matches NaN, infinities match exactly, and a
 * reference beyond float32's range expects the infinity float32 overflows to.
 */
function mismatches(c: Case, actual: ArrayLike<number>, expected: Float64Array): string[] {
  const bad: string[] = [];
  const { rtol, atol } = c.tol;
  for (let i = 0; i < expected.length && bad.length < 3; i++) {
    const a = actual[i]!;
    const e = Math.abs(expected[i]!) > F32_MAX ? Math.fround(expected[i]!) : expected[i]!;
    let ok = Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (ok && c.signedZero && e === 0 && Object.is(e, -0) !== Object.is(a, -0)) ok = false;
    if (!ok) bad.push(`[${i}] got ${Object.is(a, -0) ? '-0' : a}, expected ${Object.is(e, -0) ? '-0' : e}`);
  }
  return bad;
}

/** Whole output, then three aligned sub-ranges (offsets the outermost thread index on gpujs). */
async function runCase(backend: Backend, c: Case): Promise<KernelCall[]> {
  const whole = userCall(c.kernel, c.args, c.output);
  await backend.run(whole);
  const rows = whole.output.shape[0]!;
  if (rows < 3 || c.group === 'large') return [whole];
  const parts = userCall(c.kernel, c.args, c.output);
  const unit = whole.output.size / rows;
  for (let p = 0; p < 3; p++) await backend.run(parts, { start: Math.floor((rows * p) / 3) * unit, end: Math.floor((rows * (p + 1)) / 3) * unit });
  return [whole, parts];
}

async function check(name: BackendName, backend: Backend, cases: readonly Case[]): Promise<string[]> {
  const failures: string[] = [];
  for (const c of cases) {
    const expectRefusal = c.refused?.[name];
    let calls: KernelCall[];
    try {
      calls = await runCase(backend, c);
    } catch (error) {
      if (expectRefusal && error instanceof KernelUnsupportedError && expectRefusal.test(error.message)) {
        tally[name].refused.push(c.kernel.name);
        continue;
      }
      failures.push(`${c.kernel.name}: ${expectRefusal ? 'refused, but not as documented' : 'threw'}: ${(error as Error).constructor.name}: ${(error as Error).message}`);
      continue;
    }
    if (expectRefusal) {
      failures.push(`${c.kernel.name}: ran, but NUMERICS.md documents it as refused on ${name}`);
      continue;
    }
    const documented = c.documented?.[name];
    const expected = documented ? reference(c, documented.ref) : referenceOf(c);
    const bad = calls.flatMap((call, i) => mismatches(c, call.output.data, expected).map((m) => `${i === 0 ? 'whole' : 'parts'} ${m}`));
    if (bad.length > 0) {
      tally[name].mismatched++;
      failures.push(`${c.kernel.name}${documented ? ` (documented: ${documented.note})` : ''}: ${bad.join('; ')}`);
    } else {
      tally[name].matched++;
      if (documented) tally[name].documented.push(c.kernel.name);
    }
  }
  return failures;
}

describe('user-kernel corpus on cpu', () => {
  for (const [label, cases] of Object.entries(GROUPS)) {
    it(`${label} (${cases.length} kernels) match the float64 reference`, { timeout: 120_000 }, async () => {
      expect(await check('cpu', cpu, cases)).toEqual([]);
    });
  }
});

describe.skipIf(!gate.available)('user-kernel corpus on gpujs', () => {
  for (const [label, cases] of Object.entries(GROUPS)) {
    it(`${label} (${cases.length} kernels) match the float64 reference or are refused as documented, printing nothing`, { timeout: 120_000 }, async () => {
      const spies = (['log', 'warn', 'error'] as const).map((m) => vi.spyOn(console, m));
      let failures: string[];
      try {
        failures = await check('gpujs', gpujs, cases);
        for (const s of spies) expect(s.mock.calls.map((args) => String(args[0]).slice(0, 200))).toEqual([]);
      } finally {
        for (const s of spies) s.mockRestore();
      }
      expect(failures).toEqual([]);
    });
  }
});

it('the corpus has at least 150 kernels', () => {
  expect(Object.values(GROUPS).flat().length).toBeGreaterThanOrEqual(150);
});
