/**
 * The task module the cpu backend's workers load: one entry, {@link runChunk}, computing one
 * chunk of a kernel call on shared memory. Everything here runs inside a worker thread.
 */
import type { Tensor } from '@tandem/core/backend';
import { BINARY, BINARY_SCALAR, UNARY, saxpy } from './kernels/elementwise.ts';
import { reduce } from './kernels/reduce.ts';
import { cumsum } from './kernels/scan.ts';
import { mergeRange, radixSort } from './kernels/sort.ts';
import { runUserKernel } from './kernels/user.ts';
import { conv2dSimd } from './wasm/conv2d.ts';
import { matmulRows } from './wasm/matmul.ts';
import type { ChunkTask, ChunkResult, MapTask } from './protocol.ts';

const f32 = (t: Tensor | number) => (t as Tensor<'float32'>).data;

/** Where a chunk writes: its slice of the shared output, or a fresh array returned to the caller. */
function target(out: Tensor | null, start: number, end: number): Float32Array {
  return out ? f32(out).subarray(start, end) : new Float32Array(end - start);
}

/** Computes one chunk; resolves to a reduce partial, a copy-mode slice, or nothing. */
export async function runChunk(task: ChunkTask): Promise<ChunkResult> {
  switch (task.op) {
    case 'map': {
      const o = target(task.out, task.start, task.end);
      await runMap(task, o);
      return task.out ? undefined : o;
    }
    case 'reduce':
      return reduce(task.kernel, f32(task.x).subarray(task.start, task.end), task.params);
    case 'scan': {
      const o = target(task.out, task.start, task.end);
      cumsum(f32(task.x).subarray(task.start, task.end), o, task.offset);
      return task.out ? undefined : o;
    }
    case 'sort': {
      const o = target(task.out, task.outStart, task.outStart + task.end - task.start);
      radixSort(f32(task.x).subarray(task.start, task.end), o);
      return task.out ? undefined : o;
    }
    case 'merge': {
      const o = target(task.dst, task.dstAt + task.aStart + task.d0, task.dstAt + task.aStart + task.d1);
      mergeRange(f32(task.src).subarray(task.srcAt, task.srcAt + task.bEnd), task.aStart, task.aEnd, task.bEnd, task.d0, task.d1, o);
      return task.dst ? undefined : o;
    }
  }
}

async function runMap(task: MapTask, o: Float32Array): Promise<void> {
  const { kernel, args, start, end } = task;
  if (kernel === 'user') {
    runUserKernel(task.user!, args, task.outShape, start, end, o);
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
      if (task.matmul === 'tfjs-wasm' && K > 0) {
        const { tfjsMatmulRows } = await import('./wasm/tfjs-matmul.ts');
        return tfjsMatmulRows(x, f32(args[1]!), K, N, r0, r1, o);
      }
      return matmulRows(x, f32(args[1]!), K, N, r0, r1, o, task.matmul === 'js' ? 'js' : 'wasm-simd');
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
