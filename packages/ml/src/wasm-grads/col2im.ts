/**
 * col2im for the input gradient: from dcols[P, K] (row p: the gradient of the input window under
 * output position p, K = fh·fw·in in (wR, wC, d1) order), each input position's gradient is the
 * sum of the window entries that cover it.
 *
 * Each input element is summed in registers over the taps that reach it (four channels at a time)
 * and written once, instead of adding every window back into dx (a load, an add and a store for
 * each of the P·K entries, most of them onto the same few dx rows). For conv2 of the MNIST CNN
 * (dcols [2048, 400] into [32, 12, 12, 16]) that scatter took 2.3 ms, or 2.1 ms adding whole
 * contiguous window rows; this takes 1.1 ms. Sums are float64 until the one rounding, so they are
 * at least as close to tfjs-backend-cpu's as the scatter's float32 sums.
 */
import type { backend_util } from '@tensorflow/tfjs-core';
import type { Strides4 } from './im2col.ts';

/**
 * The filter taps w in [0, size) that reach input index `at` (padding already added) from some
 * output o in [0, outSize), i.e. at = o·stride + w: the first such tap and how many there are
 * (they are `stride` apart, and o goes down by one from each to the next).
 *
 * @example
 * ```ts
 * windowTaps(5, 2, 4, 4); // { first: 1, count: 2 }: taps 1 (o = 2) and 3 (o = 1) of a 4-tap filter
 * ```
 */
export function windowTaps(at: number, stride: number, outSize: number, size: number): { first: number; count: number } {
  const lo = Math.max(0, at - (outSize - 1) * stride);
  const first = lo + (((at - lo) % stride) + stride) % stride;
  const last = Math.min(size - 1, at);
  return first > last ? { first, count: 0 } : { first, count: Math.floor((last - first) / stride) + 1 };
}

/**
 * Writes every element of `dx`, laid out with element strides `xs` (either data format): the sum
 * of the dcols entries (see the module comment) over the windows covering it, 0 where none does.
 *
 * @example
 * ```ts
 * const dx = new Float32Array(B * H * W * C);
 * col2im(dcols, dx, [H * W * C, W * C, C, 1], info); // info from backend_util.computeConv2DInfo
 * ```
 */
export function col2im(dcols: Float32Array, dx: Float32Array, xs: Strides4, info: backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const [xB, xR, xC, xD] = xs;
  const K = filterHeight * filterWidth * C;
  // dcols index steps from one covering tap to the next: down an output row and `stride` taps on.
  const nextRow = strideHeight * filterWidth * C - outWidth * K;
  const nextCol = strideWidth * C - K;
  for (let b = 0; b < batchSize; ++b) {
    for (let xr = 0; xr < inHeight; ++xr) {
      const rows = windowTaps(xr + top, strideHeight, outHeight, filterHeight);
      const r = (xr + top - rows.first) / strideHeight;
      for (let xc = 0; xc < inWidth; ++xc) {
        const to = b * xB + xr * xR + xc * xC;
        const cols = windowTaps(xc + left, strideWidth, outWidth, filterWidth);
        if (rows.count === 0 || cols.count === 0) {
          for (let d1 = 0; d1 < C; ++d1) dx[to + d1 * xD] = 0;
          continue;
        }
        const c = (xc + left - cols.first) / strideWidth;
        const from = ((b * outHeight + r) * outWidth + c) * K + (rows.first * filterWidth + cols.first) * C;
        let d1 = 0;
        for (; d1 + 4 <= C; d1 += 4) {
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          for (let i = 0, ir = from + d1; i < rows.count; ++i, ir += nextRow) {
            for (let j = 0, at = ir; j < cols.count; ++j, at += nextCol) {
              s0 += dcols[at]!;
              s1 += dcols[at + 1]!;
              s2 += dcols[at + 2]!;
              s3 += dcols[at + 3]!;
            }
          }
          dx[to + d1 * xD] = s0;
          dx[to + (d1 + 1) * xD] = s1;
          dx[to + (d1 + 2) * xD] = s2;
          dx[to + (d1 + 3) * xD] = s3;
        }
        for (; d1 < C; ++d1) {
          let s = 0;
          for (let i = 0, ir = from + d1; i < rows.count; ++i, ir += nextRow) {
            for (let j = 0, at = ir; j < cols.count; ++j, at += nextCol) s += dcols[at]!;
          }
          dx[to + d1 * xD] = s;
        }
      }
    }
  }
}
