/**
 * The task module the cpu backend's workers load: one entry, {@link runChunk}, computing one
 * chunk of a kernel call on shared memory. Everything here runs inside a worker thread.
 */
import type { Tensor } from '@tandem/core';
import { BINARY, BINARY_SCALAR, UNARY, saxpy } from './kernels/elementwise.ts';
import { reduce } from './kernels/reduce.ts';
import { cumsum } from './kernels/scan.ts';
import { mergeRange, radixSort } from './kernels/sort.ts';
import { runUserKernel } from './kernels/user.ts';
import { conv2dSimd } from './wasm/conv2d.ts';
import { matmulRows } from './wasm/matmul.ts';
import type { ChunkJob, ChunkResult, MapJob } from './protocol.ts';

const f32 = (t: Tensor | number) => (t as Tensor<'float32'>).data;

/** Where a chunk writes: its slice of the shared output, or a fresh array returned to the caller. */
function target(out: Tensor | null, start: number, end: number): Float32Array {
  return out ? f32(out).subarray(start, end) : new Float32Array(end - start);
}

/** Computes one chunk; resolves to a reduce partial, a copy-mode slice, or nothing. */
export async function runChunk(job: ChunkJob): Promise<ChunkResult> {
  switch (job.op) {
    case 'map': {
      const o = target(job.out, job.start, job.end);
      await runMap(job, o);
      return job.out ? undefined : o;
    }
    case 'reduce':
      return reduce(job.kernel, f32(job.x).subarray(job.start, job.end), job.params);
    case 'scan': {
      const o = target(job.out, job.start, job.end);
      cumsum(f32(job.x).subarray(job.start, job.end), o, job.offset);
      return job.out ? undefined : o;
    }
    case 'sort': {
      const o = target(job.out, job.outStart, job.outStart + job.end - job.start);
      radixSort(f32(job.x).subarray(job.start, job.end), o);
      return job.out ? undefined : o;
    }
    case 'merge': {
      const o = target(job.dst, job.dstAt + job.aStart + job.d0, job.dstAt + job.aStart + job.d1);
      mergeRange(f32(job.src).subarray(job.srcAt, job.srcAt + job.bEnd), job.aStart, job.aEnd, job.bEnd, job.d0, job.d1, o);
      return job.dst ? undefined : o;
    }
  }
}

async function runMap(job: MapJob, o: Float32Array): Promise<void> {
  const { kernel, args, start, end } = job;
  if (kernel === 'user') {
    runUserKernel(job.user!, args, job.outShape, start, end, o);
    return;
  }
  const x = f32(args[0]!);
  const unary = UNARY[kernel];
  if (unary) return unary(x.subarray(start, end), o);
  const binary = BINARY[kernel];
  if (binary) {
    const y = args[1]!;
    if (typeof y === 'number') return BINARY_SCALAR[kernel]!(x.subarray(start, end), y, o);
    return binary(x.subarray(start, end), f32(y).subarray(start, end), o);
  }
  switch (kernel) {
    case 'saxpy':
      return saxpy(x.subarray(start, end), f32(args[1]!).subarray(start, end), args[2] as number, o);
    case 'matmul': {
      const [K, N] = (args[1] as Tensor).shape as [number, number];
      const r0 = start / N;
      const r1 = end / N;
      if (job.matmul === 'tfjs-wasm' && K > 0) {
        const { tfjsMatmulRows } = await import('./wasm/tfjs-matmul.ts');
        return tfjsMatmulRows(x, f32(args[1]!), K, N, r0, r1, o);
      }
      return matmulRows(x, f32(args[1]!), K, N, r0, r1, o, job.matmul === 'js' ? 'js' : 'wasm-simd');
    }
    case 'conv2d': {
      const [h, w] = (args[0] as Tensor).shape as [number, number];
      const [kh, kw] = (args[1] as Tensor).shape as [number, number];
      return conv2dSimd(x, h, w, f32(args[1]!), kh, kw, start / w, end / w, o);
    }
    default:
      throw new Error(`cpu: no map kernel '${kernel}'`);
  }
}
