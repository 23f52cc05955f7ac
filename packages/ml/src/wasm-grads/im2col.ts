/**
 * im2col for the filter gradient, built transposed: colsT[K, P] (K = fh·fw·in, P = batch·outH·outW),
 * so that dW = colsT · dy is a plain product for XNNPACK. Row k = (wR, wC, d1) of colsT holds, for
 * every output position p, the input value under filter tap k, or 0 where the tap is in the padding.
 *
 * Speed (one 32-example MNIST CNN step, written straight into the wasm heap): the old loop, one
 * element at a time with a bounds check per element into a JS array then copied to the heap, took
 * 2.9 + 0.6 ms for conv2's [400, 2048] and 1.9 + 0.5 ms for conv1's [25, 18432]. Here the bounds are
 * worked out once per window row, so the interior loop has no checks, and:
 * - a row whose input run is contiguous (stride 1 along a channels-first or single-channel row) is
 *   one `copyWithin` on the heap: conv1 0.41 ms (0.90 as an element loop);
 * - otherwise four channels are gathered together (four colsT rows written per input read, which
 *   reads channels-last pixels four floats at a time): conv2 1.05 ms (1.5 one channel at a time;
 *   eight at a time 1.02, an 8×8-tiled strided transpose of each [outW, in] block 2.2).
 */
import type { backend_util } from '@tensorflow/tfjs-core';

/** Element strides of a rank-4 tensor in batch/row/col/channel order. */
export type Strides4 = readonly [batch: number, row: number, col: number, channel: number];

/**
 * The output indices `c` in [0, outSize) whose input index `c·stride − pad + tap` lies in [0, inSize),
 * as [lo, hi) (empty when lo = hi): the interior, where a window needs no bounds check.
 *
 * @example
 * ```ts
 * insideRange(8, 1, 2, 0, 8); // [2, 8]: taps at column 0 of a 'same' 5×5 window miss the first 2 outputs
 * ```
 */
export function insideRange(outSize: number, stride: number, pad: number, tap: number, inSize: number): [number, number] {
  const lo = Math.min(outSize, Math.max(0, Math.ceil((pad - tap) / stride)));
  const hi = Math.min(outSize, Math.floor((inSize - 1 + pad - tap) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * Writes every element of colsT[K, P] (see the module comment) from `x`, laid out with element
 * strides `xs` (either data format). When `x` and `colsT` are views of one buffer (the wasm heap),
 * contiguous runs are copied with `copyWithin`.
 *
 * @example
 * ```ts
 * const colsT = new Float32Array(K * P);
 * im2colTransposed(x, [H * W * C, W * C, C, 1], colsT, info); // info from backend_util.computeConv2DInfo
 * ```
 */
export function im2colTransposed(x: Float32Array, xs: Strides4, colsT: Float32Array, info: backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const [xB, xR, xC, xD] = xs;
  const P = batchSize * outHeight * outWidth;
  const step = strideWidth * xC; // between the inputs of neighbouring outputs in a row
  const heap = x.buffer === colsT.buffer ? new Float32Array(x.buffer) : undefined;
  const xAt = x.byteOffset >> 2;
  const colsAt = colsT.byteOffset >> 2;
  const copies = step === 1 && heap !== undefined;
  for (let wR = 0; wR < filterHeight; ++wR) {
    for (let wC = 0; wC < filterWidth; ++wC) {
      const [lo, hi] = insideRange(outWidth, strideWidth, left, wC, inWidth);
      const firstCol = (lo * strideWidth - left + wC) * xC;
      // Channels in fours where rows are not plain copies; the rest one at a time.
      for (let d1 = 0, n = 1; d1 < inChannels; d1 += n) {
        n = !copies && inChannels - d1 >= 4 ? 4 : 1;
        const row = ((wR * filterWidth + wC) * inChannels + d1) * P;
        for (let b = 0, p = 0; b < batchSize; ++b) {
          for (let r = 0; r < outHeight; ++r, p += outWidth) {
            const at = row + p;
            const xr = r * strideHeight - top + wR;
            if (xr < 0 || xr >= inHeight) {
              for (let j = 0; j < n; ++j) colsT.fill(0, at + j * P, at + j * P + outWidth);
              continue;
            }
            if (lo > 0) for (let j = 0; j < n; ++j) colsT.fill(0, at + j * P, at + j * P + lo);
            if (hi < outWidth) for (let j = 0; j < n; ++j) colsT.fill(0, at + j * P + hi, at + j * P + outWidth);
            const from = b * xB + xr * xR + firstCol + d1 * xD;
            if (copies) {
              heap.copyWithin(colsAt + at + lo, xAt + from, xAt + from + hi - lo);
            } else if (n === 4) {
              for (let c = lo, i = from, o = at + lo; c < hi; ++c, i += step, ++o) {
                colsT[o] = x[i]!;
                colsT[o + P] = x[i + xD]!;
                colsT[o + 2 * P] = x[i + 2 * xD]!;
                colsT[o + 3 * P] = x[i + 3 * xD]!;
              }
            } else {
              for (let c = lo, i = from, o = at + lo; c < hi; ++c, i += step, ++o) colsT[o] = x[i]!;
            }
          }
        }
      }
    }
  }
}
