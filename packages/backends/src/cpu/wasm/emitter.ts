/**
 * Just enough of the WebAssembly binary format to emit one-function SIMD modules from code, so
 * no prebuilt `.wasm` is committed and no assembler is a dependency. Byte values follow the
 * WebAssembly core spec (§5 binary format) and the fixed-width SIMD proposal's opcode table.
 */

export type Bytes = number[];

export function uleb(n: number): Bytes {
  const out: Bytes = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): Bytes {
  const out: Bytes = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vector = (items: readonly Bytes[]): Bytes => [...uleb(items.length), ...items.flat()];
const name = (s: string): Bytes => vector([...Buffer.from(s, 'utf8')].map((b) => [b]));
const section = (id: number, body: Bytes): Bytes => [id, ...uleb(body.length), ...body];

export const I32 = 0x7f;
export const V128 = 0x7b;

const simd = (code: number, ...rest: number[]): Bytes => [0xfd, ...uleb(code), ...rest];

/** Instructions used by the kernels; SIMD memory ops take a byte offset (alignment hint: natural). */
export const op = {
  localGet: (i: number): Bytes => [0x20, ...uleb(i)],
  localSet: (i: number): Bytes => [0x21, ...uleb(i)],
  localTee: (i: number): Bytes => [0x22, ...uleb(i)],
  i32Const: (v: number): Bytes => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Eqz: [0x45],
  i32GeS: [0x4e],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (depth: number): Bytes => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
  end: [0x0b],
  v128Load: (offset: number): Bytes => simd(0x00, 4, ...uleb(offset)),
  v128Store: (offset: number): Bytes => simd(0x0b, 4, ...uleb(offset)),
  v128Load32Splat: (offset: number): Bytes => simd(0x09, 2, ...uleb(offset)),
  v128Zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
} as const;

/** A function: its i32 params, its locals by type, and its body (without the final `end`). */
export interface WasmFunction {
  readonly exportName: string;
  readonly params: number;
  readonly locals: readonly { readonly count: number; readonly type: number }[];
  readonly body: Bytes;
}

/** A module importing its memory as `env.memory` and exporting each function (all `(i32...) -> ()`). */
export function emitModule(functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vector(new Array<Bytes>(f.params).fill([I32])), 0]);
  const imports = [[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]];
  const funcs = functions.map((_f, i) => uleb(i));
  const exports = functions.map((f, i) => [...name(f.exportName), 0x00, ...uleb(i)]);
  const code = functions.map((f) => {
    const body = [...vector(f.locals.map((l) => [...uleb(l.count), l.type])), ...f.body, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector(imports)),
    ...section(3, vector(funcs)),
    ...section(7, vector(exports)),
    ...section(10, vector(code)),
  ]);
}
