/**
 * What the kernel drivers share: where a run's output goes on the device and how it comes back.
 */
import { ArgumentError, type IndexRange, type KernelCall, type PartialResult, type Tensor } from '@tandem/core/backend';
import type { GpuContext } from '../context.ts';
import type { Submission } from '../submission.ts';

/** Computes one call over one range on the device. */
export type Driver = (ctx: GpuContext, call: KernelCall, range: IndexRange) => Promise<PartialResult | undefined>;

/**
 * Where a map/scan/sort run writes on the device. A run over the whole output writes a buffer of
 * the output's full size and keeps it as the output's device copy; a partial run writes a buffer
 * of the range's size, returned to the pool afterwards.
 */
export interface OutputTarget {
  readonly buffer: GPUBuffer;
  readonly full: boolean;
  /** Element index in `buffer` of the output's element `i`. */
  at(i: number): number;
}

export function outputTarget(sub: Submission, call: KernelCall, range: IndexRange): OutputTarget {
  const full = range.start === 0 && range.end === call.output.size;
  const n = range.end - range.start;
  const buffer = sub.temp(Math.max(4, n * 4));
  return { buffer, full, at: full ? (i) => i : (i) => i - range.start };
}

/** Submits the submission, copies the range back into `call.output`, and records where the data now lives. */
export async function finishOutput(sub: Submission, call: KernelCall, range: IndexRange, target: OutputTarget): Promise<void> {
  const n = range.end - range.start;
  const r = sub.readback(target.buffer, target.at(range.start) * 4, n * 4);
  await sub.submit();
  await sub.readInto(r, call.output.data, range.start);
  sub.keep(call.output, target.full ? target.buffer : undefined);
}

/** Refuses a tensor one device buffer can't hold. */
export function assertFitsBuffer(ctx: GpuContext, t: Tensor, argument: string): void {
  const bytes = t.data.byteLength;
  if (bytes > ctx.limits.maxBufferBytes) {
    throw new ArgumentError(argument, `a tensor of at most ${ctx.limits.maxBufferBytes} bytes (this WebGPU device's maxBufferSize)`, `${bytes} bytes`);
  }
}

/** Refuses an argument that must be bound whole but exceeds the binding limit. */
export function assertFitsBinding(ctx: GpuContext, bytes: number, argument: string, what: string): void {
  if (bytes > ctx.limits.maxBindingBytes) {
    throw new ArgumentError(
      argument,
      `${what} of at most ${ctx.limits.maxBindingBytes} bytes (maxStorageBufferBindingSize on this WebGPU device; it is bound whole and can't be split)`,
      `${bytes} bytes`,
    );
  }
}
