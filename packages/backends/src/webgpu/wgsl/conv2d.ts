/**
 * 'same' 2-D correlation with zero padding and a centred odd filter, one output pixel per loop
 * iteration of a grid-stride kernel.
 * Taps falling outside the image are skipped rather than multiplied by a padding zero, so an
 * infinite pixel contaminates exactly the outputs whose window holds it (as the reference does).
 */
import { COMMON, ENTRY_ARGS, WG, strideLoop } from './common.ts';

/**
 * Params: rows (output rows this dispatch), w, h, r0 (first output row, image coordinates),
 * in0 (first image row the input window holds), din, dout (window deltas), kh, kw, groups.
 * Bindings: img, filter, out, params.
 */
export function conv2dShader(): string {
  return /* wgsl */ `
${COMMON}
struct Params { rows: u32, w: u32, h: u32, r0: u32, in0: u32, din: u32, dout: u32, kh: u32, kw: u32, groups: u32 }
@group(0) @binding(0) var<storage, read> img: array<f32>;
@group(0) @binding(1) var<storage, read> filt: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  ${strideLoop('p.rows * p.w', 'p.groups')} {
    out[p.dout + i] = pixel(i);
  }
}

fn pixel(idx: u32) -> f32 {
  let y = i32(p.r0 + idx / p.w);
  let x = i32(idx % p.w);
  let ch = i32(p.kh / 2u);
  let cw = i32(p.kw / 2u);
  var acc = 0.0;
  for (var i = 0; i < i32(p.kh); i++) {
    let yy = y + i - ch;
    if (yy < 0 || yy >= i32(p.h)) { continue; }
    let row = p.din + (u32(yy) - p.in0) * p.w;
    for (var j = 0; j < i32(p.kw); j++) {
      let xx = x + j - cw;
      if (xx < 0 || xx >= i32(p.w)) { continue; }
      acc = acc + img[row + u32(xx)] * filt[u32(i) * p.kw + u32(j)];
    }
  }
  return acc;
}
`;
}
