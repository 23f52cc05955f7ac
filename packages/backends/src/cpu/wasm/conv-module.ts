/**
 * The conv2d kernel, generated as WebAssembly SIMD: a strip of SV·4 output pixels of one row is
 * held in SV f32x4 accumulators while every filter tap adds tap·(input shifted by the tap). The
 * input is pre-padded with zeros (rows and columns), so the loop has no bounds tests.
 */
import { I32, V128, op, type Bytes, type WasmFunction } from './emitter.ts';

/** f32x4 accumulators per strip: a strip is SV·4 output pixels. */
export const SV = 4;
/** Output pixels per strip. */
export const STRIP = SV * 4;

/**
 * `conv(inp, ldi, filt, kh, kw, out, ldo, rows, strips)`: for each of `rows` output rows and
 * `strips` strips, out[y][x] = Σ filt[i][j]·inp[y + i][x + j] over the kh×kw taps. `inp` is the
 * zero-padded input (row stride `ldi` floats; its row y + i, column x + j holds the image pixel
 * the tap reads), `out` has row stride `ldo`. Pointers are byte offsets; kh, kw ≥ 1.
 */
export function convFunction(): WasmFunction {
  const P = { inp: 0, ldi: 1, filt: 2, kh: 3, kw: 4, out: 5, ldo: 6, rows: 7, strips: 8 };
  let next = 9;
  const L = { y: next++, s: next++, i: next++, j: next++, p: next++, f: next++, rowp: next++, inRow: next++, outRow: next++, o: next++, ldi4: next++, ldo4: next++ };
  const i32Locals = next - 9;
  const accBase = next;
  next += SV;
  const tap = next++;
  const v128Locals = next - accBase;

  const code: Bytes = [];
  const e = (...parts: (readonly number[])[]) => {
    for (const part of parts) code.push(...part);
  };
  const inc = (local: number, by: Bytes) => e(op.localGet(local), by, op.i32Add, op.localSet(local));

  e(op.localGet(P.ldi), op.i32Const(4), op.i32Mul, op.localSet(L.ldi4));
  e(op.localGet(P.ldo), op.i32Const(4), op.i32Mul, op.localSet(L.ldo4));
  e(op.i32Const(0), op.localSet(L.y), op.localGet(P.inp), op.localSet(L.inRow), op.localGet(P.out), op.localSet(L.outRow));
  e(op.block, op.loop);
  e(op.localGet(L.y), op.localGet(P.rows), op.i32GeS, op.brIf(1));
  e(op.i32Const(0), op.localSet(L.s));
  e(op.block, op.loop);
  e(op.localGet(L.s), op.localGet(P.strips), op.i32GeS, op.brIf(1));
  for (let v = 0; v < SV; v++) e(op.v128Zero, op.localSet(accBase + v));
  // rowp: this strip's first pixel in the filter's first input row.
  e(op.localGet(L.inRow), op.localGet(L.s), op.i32Const(STRIP * 4), op.i32Mul, op.i32Add, op.localSet(L.rowp));
  e(op.localGet(P.filt), op.localSet(L.f), op.localGet(P.kh), op.localSet(L.i));
  e(op.loop);
  e(op.localGet(L.rowp), op.localSet(L.p), op.localGet(P.kw), op.localSet(L.j));
  e(op.loop);
  e(op.localGet(L.f), op.v128Load32Splat(0), op.localSet(tap));
  for (let v = 0; v < SV; v++) {
    e(op.localGet(accBase + v), op.localGet(tap), op.localGet(L.p), op.v128Load(16 * v), op.f32x4Mul, op.f32x4Add, op.localSet(accBase + v));
  }
  inc(L.p, op.i32Const(4));
  inc(L.f, op.i32Const(4));
  e(op.localGet(L.j), op.i32Const(1), op.i32Sub, op.localTee(L.j), op.brIf(0), op.end);
  inc(L.rowp, op.localGet(L.ldi4));
  e(op.localGet(L.i), op.i32Const(1), op.i32Sub, op.localTee(L.i), op.brIf(0), op.end);
  e(op.localGet(L.outRow), op.localGet(L.s), op.i32Const(STRIP * 4), op.i32Mul, op.i32Add, op.localSet(L.o));
  for (let v = 0; v < SV; v++) e(op.localGet(L.o), op.localGet(accBase + v), op.v128Store(16 * v));
  inc(L.s, op.i32Const(1));
  e(op.br(0), op.end, op.end);
  inc(L.inRow, op.localGet(L.ldi4));
  inc(L.outRow, op.localGet(L.ldo4));
  inc(L.y, op.i32Const(1));
  e(op.br(0), op.end, op.end);

  return {
    exportName: 'conv',
    params: 9,
    locals: [{ count: i32Locals, type: I32 }, { count: v128Locals, type: V128 }],
    body: code,
  };
}
