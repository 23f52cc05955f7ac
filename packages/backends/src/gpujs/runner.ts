/**
 * Runs a program over a range of its output (map kernels) or input (reductions), in as many
 * dispatches as the device's limits need, and lands the results in host memory.
 */
import { ArgumentError, HOST, REDUCTIONS, type IndexRange, type PartialResult, type Tensor } from '@tandem/core/backend';
import { REDUCE_CHUNK, type MapPlan, type ReducePlan } from './builtin-programs.ts';
import type { Kernels } from './kernels.ts';
import type { DeviceMemory } from './memory.ts';

export interface RunnerLimits {
  readonly maxBindingBytes: number;
  readonly maxWorkgroupsPerDimension: number;
}

// gpu.js's workgroup shapes: 64 threads along x for 1-D outputs, 8 x 8 otherwise.
const WORKGROUP_2D = 8;

export class Runner {
  constructor(
    private readonly kernels: Kernels,
    private readonly memory: DeviceMemory,
    private readonly deviceId: string,
    private readonly limits: RunnerLimits,
  ) {}

  /** Computes output elements `[range.start, range.end)` (whole rows/planes) into `output.data`. */
  async map(plan: MapPlan, output: Tensor, range: IndexRange): Promise<void> {
    const dims = plan.dims;
    const unit = dims.slice(0, -1).reduce((a, b) => a * b, 1);
    const outer = dims[dims.length - 1]!;
    const first = range.start / unit;
    const last = Math.ceil(range.end / unit);
    const perDispatch = this.unitsPerDispatch(dims, unit);
    // Booleans travel as 0/1 (see UserKernelSource.booleanArgs); gpu.js binds a Boolean argument as one.
    const args = plan.args.map((a, i) => (typeof a !== 'number' ? this.memory.handleFor(a, `args[${i}]`) : plan.program.argumentTypes[i] === 'Boolean' ? a !== 0 : a));
    const data = output.data as Float32Array;
    let kept = false;
    for (let u = first; u < last; u += perDispatch) {
      const n = Math.min(perDispatch, last - u);
      const result = await this.kernels.dispatch(plan.program, [...dims.slice(0, -1), n], [...args, u, outer]);
      try {
        await this.memory.readInto(result, data, u * unit, n * unit);
      } catch (error) {
        result.delete();
        throw error;
      }
      if (u === 0 && n === outer) {
        // The whole output: the device's copy of it can serve the next kernel.
        output.residency.wroteOn(this.deviceId);
        output.residency.addCopy(HOST);
        this.memory.adopt(output, result);
        kept = true;
      }
      result.delete();
    }
    if (!kept) {
      output.residency.wroteOn(this.deviceId);
      output.residency.addCopy(HOST);
    }
  }

  /** The reduction's partial over input elements `[range.start, range.end)`: `[value]` (for mean, the sum). */
  async reduce(plan: ReducePlan, range: IndexRange): Promise<PartialResult> {
    const { identity, combine } = REDUCTIONS[plan.reducer];
    const n = range.end - range.start;
    if (n === 0) return [identity];
    const x = this.memory.handleFor(plan.input, 'args[0]');
    const threads = Math.ceil(n / REDUCE_CHUNK);
    const result = await this.kernels.dispatch(plan.program, [threads], [x, range.start, range.end]);
    const partials = new Float32Array(threads);
    try {
      await this.memory.readInto(result, partials, 0, threads);
    } finally {
      result.delete();
    }
    let acc = identity;
    for (let i = 0; i < threads; i++) acc = combine(acc, partials[i]!);
    return [acc];
  }

  /** Outermost rows (2-D) / planes (3-D) / elements (1-D) one dispatch may compute. */
  private unitsPerDispatch(dims: readonly number[], unit: number): number {
    const { maxBindingBytes, maxWorkgroupsPerDimension } = this.limits;
    const maxThreads = maxWorkgroupsPerDimension * WORKGROUP_2D;
    if (dims.length >= 2 && dims[0]! > maxThreads) {
      throw new ArgumentError('output', `at most ${maxThreads} elements along x for a ${dims.length}-D output on this device`, dims[0]);
    }
    if (dims.length === 3 && dims[1]! > maxThreads) {
      throw new ArgumentError('output', `at most ${maxThreads} elements along y for a 3-D output on this device`, dims[1]);
    }
    const byBytes = Math.floor(maxBindingBytes / 4 / Math.max(1, unit));
    if (byBytes < 1) throw new ArgumentError('output', `rows of at most ${maxBindingBytes / 4} elements (this device's maxStorageBufferBindingSize)`, unit);
    const byGroups = dims.length === 1 ? Infinity : dims.length === 2 ? maxThreads : maxWorkgroupsPerDimension;
    return Math.max(1, Math.min(byBytes, byGroups));
  }
}
