/**
 * This worker's WebAssembly SIMD kernels: one module (the matmul and conv2d kernels, generated at
 * load), one growable memory that the drivers copy operands into and results out of.
 */
import { convFunction } from './conv-module.ts';
import { emitModule } from './emitter.ts';
import { NR, gemmFunction } from './gemm-module.ts';

/** The slice of the WebAssembly JS API used here (this package compiles without the DOM lib, which declares it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Beyond this much wasm memory, drivers fall back to plain JS. */
export const MAX_WASM_BYTES = 1 << 30;
const PAGE = 65536;

export interface Engine {
  gemm(ap: number, bp: number, cp: number, tiles: number, panels: number, kc: number, ldc: number): void;
  conv(inp: number, ldi: number, filt: number, kh: number, kw: number, out: number, ldo: number, rows: number, strips: number): void;
  /** The memory as floats, at least `bytes` long (grown if needed; views from before a grow are stale). */
  reserve(bytes: number): Float32Array;
}

let engine: Engine | null | undefined;

/** This worker's engine, or null when WebAssembly SIMD is unavailable here. */
export function simdEngine(): Engine | null {
  if (engine !== undefined) return engine;
  try {
    if (!wasm) throw new Error('no WebAssembly');
    const memory = new wasm.Memory({ initial: 1 });
    const { exports } = new wasm.Instance(new wasm.Module(emitModule([gemmFunction(), convFunction()])), { env: { memory } });
    let view = new Float32Array(memory.buffer);
    const e: Engine = {
      gemm: exports.gemm as Engine['gemm'],
      conv: exports.conv as Engine['conv'],
      reserve(bytes) {
        const have = memory.buffer.byteLength;
        if (bytes > have) memory.grow(Math.ceil((bytes - have) / PAGE));
        if (view.buffer !== memory.buffer) view = new Float32Array(memory.buffer);
        return view;
      },
    };
    // A function's first call compiles it: pay for that here, on zeros, not inside a real call.
    e.gemm(0, 4096, 8192, 1, 1, 1, NR);
    e.conv(0, 64, 4096, 1, 1, 8192, 64, 1, 1);
    engine = e;
  } catch {
    engine = null;
  }
  return engine;
}
