/**
 * 'same' 2-D correlation with zero padding, filter centred, over output rows [y0, y1). Works a
 * row at a time: for each filter tap, one pass adds tap·(shifted input row) into a float64 row
 * accumulator, so the inner loop is a contiguous axpy with no bounds tests.
 */
export function conv2dRows(img: Float32Array, h: number, w: number, f: Float32Array, kh: number, kw: number, y0: number, y1: number, o: Float32Array): void {
  const ch = (kh - 1) >> 1;
  const cw = (kw - 1) >> 1;
  const acc = new Float64Array(w);
  for (let y = y0; y < y1; y++) {
    acc.fill(0);
    for (let i = 0; i < kh; i++) {
      const yy = y + i - ch;
      if (yy < 0 || yy >= h) continue;
      const row = yy * w;
      for (let j = 0; j < kw; j++) {
        const tap = f[i * kw + j]!;
        const dx = j - cw;
        // Output columns whose input column x + dx lies inside the image.
        const xStart = dx < 0 ? -dx : 0;
        const xEnd = dx > 0 ? w - dx : w;
        const base = row + dx;
        for (let x = xStart; x < xEnd; x++) acc[x]! += tap * img[base + x]!;
      }
    }
    const out = (y - y0) * w;
    for (let x = 0; x < w; x++) o[out + x] = acc[x]!;
  }
}
