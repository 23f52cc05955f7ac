/**
 * fp32 matmul C = A·B. The tiled variant gives each 8×8 workgroup a 64×64 block of C: A and B
 * pass through workgroup memory 16 columns/rows at a time, and each thread accumulates an 8×8
 * sub-block in registers (as vec4 pairs), so every value loaded from memory is used 64 times and
 * each value read from workgroup memory feeds 8 multiply-adds. (On lavapipe this layout runs
 * 1.5–2.5× faster than 16×16 threads with 4×4 blocks.)
 *
 * Out-of-range loads fill the tiles with 0; a padded k has 0 in both A and B, so no 0·Inf NaN
 * reaches a real output.
 *
 * The simple variant (a grid-stride loop over the elements of C) serves thin matrices, where a 64-wide tile
 * would mostly compute padding.
 */
import { COMMON, ENTRY_ARGS, WG, strideLoop } from './common.ts';

/** Rows and columns of C one tiled workgroup computes. */
export const MATMUL_TILE = 64;
const TK = 16;

/** Params: m (rows this dispatch), n, k, da, db, dc (window deltas), groups (simple variant). Bindings: a, b, c, params. */
const HEADER = /* wgsl */ `
${COMMON}
struct Params { m: u32, n: u32, k: u32, da: u32, db: u32, dc: u32, groups: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
`;

export function matmulTiledShader(): string {
  return /* wgsl */ `
${HEADER}
// As[k][row]: the A tile transposed, so a thread's 8 rows at one k are adjacent.
var<workgroup> As: array<array<f32, ${MATMUL_TILE}>, ${TK}>;
// Bs[k][c]: the B tile as 16 vec4s per row.
var<workgroup> Bs: array<array<vec4<f32>, ${MATMUL_TILE / 4}>, ${TK}>;

@compute @workgroup_size(8, 8)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row0 = wid.y * ${MATMUL_TILE}u;
  let col0 = wid.x * ${MATMUL_TILE}u;
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * 8u + tx;
  // Rows ty*8 .. +8, columns tx*8 .. +8 (two vec4s).
  var lo: array<vec4<f32>, 8>;
  var hi: array<vec4<f32>, 8>;
  let tiles = (p.k + ${TK - 1}u) / ${TK}u;
  for (var t = 0u; t < tiles; t++) {
    let k0 = t * ${TK}u;
    for (var i = 0u; i < ${(MATMUL_TILE * TK) / 64}u; i++) {
      let idx = tid + i * 64u;
      let ar = idx / ${TK}u;
      let ak = idx % ${TK}u;
      var av = 0.0;
      if (row0 + ar < p.m && k0 + ak < p.k) { av = a[p.da + (row0 + ar) * p.k + k0 + ak]; }
      As[ak][ar] = av;
    }
    for (var i = 0u; i < ${(MATMUL_TILE * TK) / 4 / 64}u; i++) {
      let idx = tid + i * 64u;
      let bk = idx / ${MATMUL_TILE / 4}u;
      let bc = (idx % ${MATMUL_TILE / 4}u) * 4u;
      var bv = vec4<f32>();
      if (k0 + bk < p.k) {
        let base = p.db + (k0 + bk) * p.n + col0 + bc;
        for (var j = 0u; j < 4u; j++) {
          if (col0 + bc + j < p.n) { bv[j] = b[base + j]; }
        }
      }
      Bs[bk][bc / 4u] = bv;
    }
    workgroupBarrier();
    // A runtime bound: it skips the padding of the last tile, and keeps the compiler from
    // unrolling 16 × 8 steps (seconds of compile time on lavapipe).
    let kend = min(${TK}u, p.k - k0);
    for (var kk = 0u; kk < kend; kk++) {
      let b0 = Bs[kk][tx * 2u];
      let b1 = Bs[kk][tx * 2u + 1u];
      for (var i = 0u; i < 8u; i++) {
        let av = As[kk][ty * 8u + i];
        lo[i] = lo[i] + av * b0;
        hi[i] = hi[i] + av * b1;
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 8u; i++) {
    let r = row0 + ty * 8u + i;
    if (r >= p.m) { break; }
    let at = p.dc + r * p.n;
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + tx * 8u + j;
      if (col < p.n) { c[at + col] = lo[i][j]; }
      if (col + 4u < p.n) { c[at + col + 4u] = hi[i][j]; }
    }
  }
}
`;
}

export function matmulSimpleShader(): string {
  return /* wgsl */ `
${HEADER}
@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  ${strideLoop('p.m * p.n', 'p.groups')} {
    let r = i / p.n;
    let col = i % p.n;
    var acc = 0.0;
    for (var kk = 0u; kk < p.k; kk++) {
      acc = acc + a[p.da + r * p.k + kk] * b[p.db + kk * p.n + col];
    }
    c[p.dc + i] = acc;
  }
}
`;
}
