/**
 * Matmul of output rows [r0, r1) in one worker, GotoBLAS-style: B packed once into NR-wide
 * column panels per KC-deep block, A packed per MC×KC block into MR-row tiles, and the generated
 * WebAssembly SIMD micro-kernel ({@link gemmFunction}) accumulating into a C block in wasm memory
 * that is then copied out. The packed layouts let every load in the micro-kernel use an
 * immediate offset and keep the B panel in L1 and the A block in L2.
 */
import { MAX_WASM_BYTES, simdEngine, type Engine } from './engine.ts';
import { MR, NR } from './gemm-module.ts';

/** Depth of one packed block: a B panel is KC·NR·4 = 8 KiB, half of L1. */
const KC = 256;
/** Rows of A per packed block: MC·KC·4 = 128 KiB, well inside L2. */
const MC = 128;
/** B panels per micro-kernel sweep: 64·NR = 512 columns, so MC × 512 of C (256 KiB) stays in L2. */
const NC_PANELS = 64;
/** Largest C block kept in wasm memory; wide outputs get fewer rows per block. */
const C_BLOCK_BYTES = 16 << 20;

/**
 * Writes rows [r0, r1) of A·B into `o` (o[0] is element (r0, 0)). A is [·, K], B is [K, N].
 * Uses the SIMD kernel when it is available and the packed operands fit, else plain JS.
 */
export function matmulRows(a: Float32Array, b: Float32Array, K: number, N: number, r0: number, r1: number, o: Float32Array, engineName: 'wasm-simd' | 'js' = 'wasm-simd'): void {
  if (r1 <= r0 || N === 0) return;
  if (K === 0) {
    o.fill(0, 0, (r1 - r0) * N);
    return;
  }
  const e = engineName === 'wasm-simd' ? simdEngine() : null;
  if (!e || !simdRows(e, a, b, K, N, r0, r1, o)) jsRows(a, b, K, N, r0, r1, o);
}

function simdRows(e: Engine, a: Float32Array, b: Float32Array, K: number, N: number, r0: number, r1: number, o: Float32Array): boolean {
  const panels = Math.ceil(N / NR);
  const ldc = panels * NR;
  const rows = r1 - r0;
  const mcCap = Math.max(MR, Math.floor(C_BLOCK_BYTES / (ldc * 4) / MR) * MR);
  const mc = Math.min(MC, mcCap, Math.ceil(rows / MR) * MR);
  const aBytes = mc * Math.min(KC, K) * 4;
  const cBytes = mc * ldc * 4;
  const bBytes = K * ldc * 4;
  const total = aBytes + cBytes + bBytes;
  if (total > MAX_WASM_BYTES) return false;
  const mem = e.reserve(total);
  const aOff = 0;
  const cOff = aBytes;
  const bOff = aBytes + cBytes;
  packB(b, K, N, panels, mem, bOff >> 2);
  for (let ic = r0; ic < r1; ic += mc) {
    const m = Math.min(mc, r1 - ic);
    const tiles = Math.ceil(m / MR);
    mem.fill(0, cOff >> 2, (cOff >> 2) + tiles * MR * ldc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      packA(a, K, ic, m, tiles, pc, kc, mem, aOff >> 2);
      // NC_PANELS panels at a time keep the C block's touched part in L2 for wide outputs.
      for (let p0 = 0; p0 < panels; p0 += NC_PANELS) {
        const np = Math.min(NC_PANELS, panels - p0);
        e.gemm(aOff, bOff + (pc * ldc + p0 * kc * NR) * 4, cOff + p0 * NR * 4, tiles, np, kc, ldc);
      }
    }
    copyOut(mem, cOff >> 2, ldc, m, N, o, (ic - r0) * N);
  }
  return true;
}

/** Copies m rows of N floats (row stride ldc) out of wasm memory; short rows by hand, since `set` costs a call per row. */
function copyOut(mem: Float32Array, from: number, ldc: number, m: number, N: number, o: Float32Array, to: number): void {
  if (N >= 64) {
    for (let r = 0; r < m; r++) o.set(mem.subarray(from + r * ldc, from + r * ldc + N), to + r * N);
    return;
  }
  for (let r = 0; r < m; r++) {
    const s = from + r * ldc;
    const d = to + r * N;
    for (let j = 0; j < N; j++) o[d + j] = mem[s + j]!;
  }
}

/**
 * B → for each KC block (starting at float pc·ldc), `panels` panels of kc×NR, k-major; columns
 * past N are zero (their results are never copied out).
 */
function packB(b: Float32Array, K: number, N: number, panels: number, mem: Float32Array, base: number): void {
  const ldc = panels * NR;
  const full = Math.floor(N / NR);
  for (let pc = 0; pc < K; pc += KC) {
    const kc = Math.min(KC, K - pc);
    const block = base + pc * ldc;
    for (let k = 0; k < kc; k++) {
      const src = (pc + k) * N;
      let d = block + k * NR;
      for (let p = 0; p < full; p++, d += kc * NR) {
        const s = src + p * NR;
        for (let j = 0; j < NR; j++) mem[d + j] = b[s + j]!;
      }
      if (full < panels) {
        const s = src + full * NR;
        for (let j = 0; j < NR; j++) mem[d + j] = full * NR + j < N ? b[s + j]! : 0;
      }
    }
  }
}

/** Rows [ic, ic + m), columns [pc, pc + kc) of A → `tiles` tiles of kc×MR, k-major; rows past m are zero. */
function packA(a: Float32Array, K: number, ic: number, m: number, tiles: number, pc: number, kc: number, mem: Float32Array, base: number): void {
  for (let t = 0; t < tiles; t++) {
    for (let r = 0; r < MR; r++) {
      const row = t * MR + r;
      let d = base + t * kc * MR + r;
      if (row < m) {
        const s = (ic + row) * K + pc;
        for (let k = 0; k < kc; k++, d += MR) mem[d] = a[s + k]!;
      } else {
        for (let k = 0; k < kc; k++, d += MR) mem[d] = 0;
      }
    }
  }
}

/** The plain JS matmul: float64 row accumulators, i-k-j order so B is read row by row. */
function jsRows(a: Float32Array, b: Float32Array, K: number, N: number, r0: number, r1: number, o: Float32Array): void {
  const acc = new Float64Array(N);
  for (let i = r0; i < r1; i++) {
    acc.fill(0);
    for (let p = 0; p < K; p++) {
      const av = a[i * K + p]!;
      const row = p * N;
      for (let j = 0; j < N; j++) acc[j]! += av * b[row + j]!;
    }
    o.set(acc, (i - r0) * N);
  }
}
