/**
 * The matmul micro-kernel, generated as WebAssembly SIMD: a 4×8 register block of C (eight f32x4
 * accumulators) updated with one broadcast of A and two vectors of B per k step. 4×8 measured
 * fastest here: 6×8, 4×16, 5×8 and k-unrolled variants ran at 30-65% of its speed under V8
 * (x64 has 16 xmm registers; larger blocks likely spill).
 */
import { I32, V128, op, type Bytes, type WasmFunction } from './emitter.ts';

/** Rows of C per register block (rows of a packed A tile). */
export const MR = 4;
/** Columns of C per register block (columns of a packed B panel). */
export const NR = 8;

/**
 * `gemm(ap, bp, cp, tiles, panels, kc, ldc)`: C[tiles·MR × panels·NR] += A·B, where `ap` holds
 * `tiles` packed A tiles (kc × MR each, k-major), `bp` holds `panels` packed B panels (kc × NR
 * each), and C is row-major with a row stride of `ldc` floats. Pointers are byte offsets; kc ≥ 1.
 * Panels are the outer loop so one B panel (kc·NR·4 bytes) stays in L1 across all A tiles.
 */
export function gemmFunction(): WasmFunction {
  const P = { ap: 0, bp: 1, cp: 2, tiles: 3, panels: 4, kc: 5, ldc: 6 };
  let next = 7;
  const L = { p: next++, t: next++, a: next++, b: next++, k: next++, aTile: next++, bPanel: next++, cTile: next++, cCol: next++, c: next++, ldc4: next++ };
  const i32Locals = next - 7;
  const NV = NR / 4;
  const accBase = next;
  const acc = (i: number, j: number) => accBase + i * NV + j;
  next += MR * NV;
  const bBase = next;
  const bv = (j: number) => bBase + j;
  next += NV;
  const av = next++;
  const v128Locals = next - accBase;

  const code: Bytes = [];
  const e = (...parts: (readonly number[])[]) => {
    for (const part of parts) code.push(...part);
  };
  const inc = (local: number, by: Bytes) => e(op.localGet(local), by, op.i32Add, op.localSet(local));

  e(op.localGet(P.ldc), op.i32Const(4), op.i32Mul, op.localSet(L.ldc4));
  e(op.i32Const(0), op.localSet(L.p), op.localGet(P.bp), op.localSet(L.bPanel), op.localGet(P.cp), op.localSet(L.cCol));
  e(op.block, op.loop);
  e(op.localGet(L.p), op.localGet(P.panels), op.i32GeS, op.brIf(1));
  e(op.i32Const(0), op.localSet(L.t), op.localGet(P.ap), op.localSet(L.aTile), op.localGet(L.cCol), op.localSet(L.cTile));
  e(op.block, op.loop);
  e(op.localGet(L.t), op.localGet(P.tiles), op.i32GeS, op.brIf(1));

  // The register block: k steps of eight multiply-adds.
  e(op.localGet(L.aTile), op.localSet(L.a), op.localGet(L.bPanel), op.localSet(L.b), op.localGet(P.kc), op.localSet(L.k));
  for (let i = 0; i < MR; i++) for (let j = 0; j < NV; j++) e(op.v128Zero, op.localSet(acc(i, j)));
  e(op.loop);
  for (let j = 0; j < NV; j++) e(op.localGet(L.b), op.v128Load(16 * j), op.localSet(bv(j)));
  for (let i = 0; i < MR; i++) {
    e(op.localGet(L.a), op.v128Load32Splat(4 * i), op.localSet(av));
    for (let j = 0; j < NV; j++) e(op.localGet(acc(i, j)), op.localGet(av), op.localGet(bv(j)), op.f32x4Mul, op.f32x4Add, op.localSet(acc(i, j)));
  }
  inc(L.a, op.i32Const(MR * 4));
  inc(L.b, op.i32Const(NR * 4));
  e(op.localGet(L.k), op.i32Const(1), op.i32Sub, op.localTee(L.k), op.brIf(0), op.end);

  // C block += accumulators, row by row.
  e(op.localGet(L.cTile), op.localSet(L.c));
  for (let i = 0; i < MR; i++) {
    for (let j = 0; j < NV; j++) {
      e(op.localGet(L.c), op.localGet(L.c), op.v128Load(16 * j), op.localGet(acc(i, j)), op.f32x4Add, op.v128Store(16 * j));
    }
    if (i < MR - 1) inc(L.c, op.localGet(L.ldc4));
  }

  inc(L.aTile, [...op.localGet(P.kc), ...op.i32Const(MR * 4), ...op.i32Mul]);
  inc(L.cTile, [...op.localGet(L.ldc4), ...op.i32Const(MR), ...op.i32Mul]);
  inc(L.t, op.i32Const(1));
  e(op.br(0), op.end, op.end);

  inc(L.bPanel, [...op.localGet(P.kc), ...op.i32Const(NR * 4), ...op.i32Mul]);
  inc(L.cCol, op.i32Const(NR * 4));
  inc(L.p, op.i32Const(1));
  e(op.br(0), op.end, op.end);

  return {
    exportName: 'gemm',
    params: 7,
    locals: [{ count: i32Locals, type: I32 }, { count: v128Locals, type: V128 }],
    body: code,
  };
}
