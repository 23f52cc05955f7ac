/**
 * conv2d of output rows [y0, y1) in one worker with the SIMD kernel ({@link convFunction}):
 * blocks of rows are copied into wasm memory with a zero border (the 'same' padding), convolved
 * a strip at a time, and copied out. Falls back to the plain JS rows when SIMD is unavailable or
 * a filter tap is NaN/±Inf (tap·padding would give NaN where the contract skips the padding).
 */
import { conv2dRows } from '../kernels/conv2d.ts';
import { MAX_WASM_BYTES, simdEngine } from './engine.ts';
import { STRIP } from './conv-module.ts';

/** Output rows per block: the padded input block stays a few hundred KiB for images up to 4K wide. */
const ROWS = 32;

export function conv2dSimd(img: Float32Array, h: number, w: number, f: Float32Array, kh: number, kw: number, y0: number, y1: number, o: Float32Array): void {
  if (y1 <= y0 || w === 0) return;
  const e = simdEngine();
  const ch = (kh - 1) >> 1;
  const cw = (kw - 1) >> 1;
  const strips = Math.ceil(w / STRIP);
  const ldo = strips * STRIP;
  // Input rows hold cw zeros, the image row, and zeros up to what the last strip's last tap reads.
  const ldi = ldo + 2 * cw;
  const rows = Math.min(ROWS, y1 - y0);
  const filtBytes = Math.ceil((kh * kw) / 4) * 16;
  const inBytes = (rows + 2 * ch) * ldi * 4;
  const total = filtBytes + inBytes + rows * ldo * 4;
  if (!e || total > MAX_WASM_BYTES || !f.every(Number.isFinite)) {
    conv2dRows(img, h, w, f, kh, kw, y0, y1, o);
    return;
  }
  const mem = e.reserve(total);
  const fOff = 0;
  const inOff = filtBytes;
  const outOff = filtBytes + inBytes;
  mem.set(f, fOff >> 2);
  for (let yb = y0; yb < y1; yb += rows) {
    const rb = Math.min(rows, y1 - yb);
    const base = inOff >> 2;
    mem.fill(0, base, base + (rb + 2 * ch) * ldi);
    for (let r = 0; r < rb + 2 * ch; r++) {
      const yy = yb - ch + r;
      if (yy >= 0 && yy < h) mem.set(img.subarray(yy * w, yy * w + w), base + r * ldi + cw);
    }
    e.conv(inOff, ldi, fOff, kh, kw, outOff, ldo, rb, strips);
    const out = outOff >> 2;
    for (let r = 0; r < rb; r++) o.set(mem.subarray(out + r * ldo, out + r * ldo + w), (yb - y0 + r) * w);
  }
}
