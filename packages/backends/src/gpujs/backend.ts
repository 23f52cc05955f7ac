import {
  ArgumentError, BackendUnavailableError, DeviceLostError, Tensor, checkCall, unsupportedKernel, type Backend,
  type BackendHealth, type DeviceDescription, type IndexRange, type KernelCall, type PartialResult, type RunOptions,
  type TransferStats,
} from '@tandem/core/backend';
import { describeAdapter, requestAdapter } from '../dawn.ts';
import { observed } from '../observe.ts';
import { GPUJS_BUILTINS, builtinPlan, type BuiltinPlan } from './builtin-programs.ts';
import { KernelUnsupportedError } from './errors.ts';
import { DeviceWatch } from './guard.ts';
import { Kernels } from './kernels.ts';
import { DeviceMemory, gpuDims } from './memory.ts';
import { Runner } from './runner.ts';
import { loadGpuJs, type GpuInstance } from './runtime.ts';
import { userProgram } from './user-program.ts';

export interface GpuJsBackendOptions {
  /**
   * How long one wait on the GPU (a kernel's submission, a readback) may take before the device
   * counts as lost. Default 120 000 ms: the software rasteriser runs a 16M-element kernel in
   * well under a second, so two minutes means the queue is stuck.
   */
  readonly timeoutMs?: number;
}

const DEVICE_ID = 'gpujs:0';
const NO_TRANSFERS: TransferStats = { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 };

interface Open {
  readonly gpu: GpuInstance;
  readonly watch: DeviceWatch;
  readonly kernels: Kernels;
  readonly memory: DeviceMemory;
  readonly runner: Runner;
}

/**
 * gpu.js 2.24 in its `webgpu` mode, on Dawn: built-in kernels and the user's own kernels, written
 * once in gpu.js's dialect (`this.thread.x`, `this.constants`), compiled by gpu.js to WGSL. Every
 * run is checked to have really run on WebGPU — gpu.js can quietly swap in its CPU path, and such
 * a run is rejected with `KernelUnsupportedError`, never reported as a GPU one.
 *
 * The device is gpu.js's own (one per thread, shared by all its kernels); this backend watches
 * its `lost` promise, so after a loss `health()` is `'lost'` and `run` rejects at once.
 *
 * User kernels are translated with this backend's fixes to gpu.js's WGSL (loops, IEEE specials,
 * NaN in `max`/`min`/`==`); what still differs from JS, and what is refused, is in NUMERICS.md.
 * Built-ins are written with ordered comparisons and arithmetic only, which follow IEEE-754.
 *
 * @example
 * ```ts
 * const gpujs = new GpuJsBackend();
 * await gpujs.init();
 * const saxpy = kernel('saxpy', function (x: number[], y: number[], a: number) {
 *   return a * x[this.thread.x] + y[this.thread.x];
 * });
 * const call = userCall(saxpy, [x, y, 2], [x.size]);
 * await gpujs.run(call);                                   // call.output.data holds 2x + y
 * await gpujs.run(call, { start: 0, end: 1024 });          // or just a part of it
 * ```
 */
export class GpuJsBackend implements Backend {
  readonly name = 'gpujs' as const;
  private readonly timeoutMs: number;
  private description: DeviceDescription | undefined;
  private open: Open | undefined;
  private opening: Promise<void> | undefined;
  private disposed = false;

  constructor(options: GpuJsBackendOptions = {}) {
    const timeoutMs = options.timeoutMs ?? 120_000;
    if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) throw new ArgumentError('options.timeoutMs', 'a positive number of milliseconds', timeoutMs);
    this.timeoutMs = timeoutMs;
  }

  /** The device gpu.js runs on; valid after {@link GpuJsBackend.init} resolved. */
  get device(): DeviceDescription {
    if (!this.description) throw new BackendUnavailableError('gpujs', 'the backend is not initialised', 'await backend.init() first');
    return this.description;
  }

  /**
   * Loads gpu.js on this thread's Dawn and opens gpu.js's WebGPU device.
   *
   * @example
   * ```ts
   * try { await new GpuJsBackend().init(); } catch (e) { console.log((e as BackendUnavailableError).fix); }
   * ```
   */
  init(): Promise<void> {
    if (this.disposed) return Promise.reject(new BackendUnavailableError('gpujs', 'the backend was disposed', 'create a new GpuJsBackend'));
    this.opening ??= this.start();
    return this.opening;
  }

  /**
   * `'lost'` once gpu.js's device is gone (or this backend was disposed): runs then reject at once.
   * gpu.js opens a fresh device for the next kernel built after a loss, so a new `GpuJsBackend`
   * recovers; this one stays lost, since its kernels and buffers died with the old device.
   *
   * @example
   * ```ts
   * if (gpujs.health() === 'lost') await cpu.run(call);
   * ```
   */
  health(): BackendHealth {
    return this.disposed || this.open?.watch.lost !== undefined ? 'lost' : 'ok';
  }

  /**
   * Built-ins: elementwise, saxpy, matmul, conv2d, sum/min/max/mean; and `user` kernels. Not
   * histogram, cumsum or sort: gpu.js has no atomics or workgroup memory to write them with.
   *
   * @example
   * ```ts
   * gpujs.supports('matmul'); // true
   * gpujs.supports('sort');   // false
   * ```
   */
  supports(kernel: string): boolean {
    return kernel === 'user' || GPUJS_BUILTINS.includes(kernel);
  }

  /**
   * Why gpu.js could not run this call's kernel on the GPU: a construct this backend refuses, or,
   * once a run of it was rejected for that, a compile error or gpu.js choosing its CPU path;
   * `undefined` otherwise.
   *
   * @example
   * ```ts
   * await gpujs.run(call).catch(() => undefined);
   * if (gpujs.unsupported(call)) await cpu.run(call);
   * ```
   */
  unsupported(call: KernelCall): string | undefined {
    if (!this.open || !this.supports(call.kernel)) return undefined;
    try {
      return this.open.kernels.unsupported(this.plan(call).program.key);
    } catch (error) {
      // A construct refused before gpu.js sees the source (prepare.ts) is known without a run.
      return error instanceof KernelUnsupportedError ? error.reason : undefined;
    }
  }

  /**
   * Computes `call` over `range` (whole rows for 2-D outputs, whole planes for 3-D) on the GPU and
   * copies the results into `call.output.data`; reductions resolve to their partial instead.
   * Rejects with `KernelUnsupportedError` when gpu.js can't run the kernel on WebGPU, and with
   * `DeviceLostError` once the device is gone. `options.observe` hears each upload and readback,
   * with its bytes.
   *
   * @example
   * ```ts
   * const call = kernelCall('matmul', [a, b]);
   * await gpujs.run(call, { start: 0, end: 64 * b.shape[1]! });   // the first 64 rows
   * ```
   */
  run(call: KernelCall, range?: IndexRange, options?: RunOptions): Promise<PartialResult | undefined> {
    return observed(options?.observe, () => this.compute(call, range));
  }

  private async compute(call: KernelCall, range: IndexRange | undefined): Promise<PartialResult | undefined> {
    const open = this.ready();
    const { range: r } = checkCall(call, range);
    if (!this.supports(call.kernel)) throw unsupportedKernel('gpujs', call.kernel);
    const plan = this.plan(call);
    try {
      if (plan.kind === 'reduce') return await open.runner.reduce(plan, r);
      if (r.end > r.start) await open.runner.map(plan, call.output, r);
      return undefined;
    } catch (error) {
      // gpu.js's own errors after a loss ("submits are no-ops", rejected maps) mean the same thing.
      if (open.watch.lost !== undefined && !(error instanceof DeviceLostError)) throw open.watch.error();
      throw error;
    }
  }

  /**
   * Makes the device's copy of `t` current (no transfer when it already is).
   *
   * @example
   * ```ts
   * await gpujs.upload(weights);   // later runs that read `weights` send nothing
   * ```
   */
  async upload(t: Tensor): Promise<void> {
    if (!(t instanceof Tensor)) throw new ArgumentError('t', 'a Tensor', t);
    this.ready().memory.handleFor(t, 't');
  }

  /**
   * Bytes sent to and read back from the device so far.
   *
   * @example
   * ```ts
   * const { uploads, downloadBytes } = gpujs.transfers();
   * ```
   */
  transfers(): TransferStats {
    return this.open?.memory.transfers() ?? NO_TRANSFERS;
  }

  /**
   * Frees this backend's kernels and buffers. gpu.js's device stays: it is shared by every gpu.js
   * instance on the thread.
   *
   * @example
   * ```ts
   * await gpujs.dispose();
   * ```
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.opening?.catch(() => undefined);
    const open = this.open;
    if (!open) return;
    open.kernels.dispose();
    open.memory.dispose();
    // The device itself is gpu.js's, shared by every GPU instance on this thread: it stays.
    await open.gpu.destroy();
    open.watch.markLost('the backend was disposed');
  }

  private async start(): Promise<void> {
    let gpujs;
    try {
      await requestAdapter('gpujs');
      gpujs = await loadGpuJs();
    } catch (error) {
      if (error instanceof BackendUnavailableError && error.backend === 'gpujs') throw error;
      const e = error as BackendUnavailableError;
      throw new BackendUnavailableError('gpujs', `WebGPU is not available: ${e.message}`, e.fix ?? 'run `npm run setup:gpu`', error);
    }
    let context;
    try {
      context = await gpujs.WebGPUContext.acquire();
    } catch (error) {
      throw new BackendUnavailableError('gpujs', `gpu.js could not open a WebGPU device: ${(error as Error).message}`, 'check `npx tandem devices` for the WebGPU adapter', error);
    }
    const gpu = new gpujs.GPU({ mode: 'webgpu' });
    if (gpu.mode !== 'webgpu') throw new BackendUnavailableError('gpujs', `gpu.js chose its '${gpu.mode}' mode instead of 'webgpu'`, 'make sure navigator.gpu exists before gpu.js loads');
    const { device, adapter } = context;
    const { description, software } = describeAdapter(adapter);
    const watch = new DeviceWatch(DEVICE_ID, device, this.timeoutMs);
    const maxBindingBytes = device.limits.maxStorageBufferBindingSize;
    const kernels = new Kernels(gpu, watch, device);
    const memory = new DeviceMemory(gpujs, context, DEVICE_ID, maxBindingBytes, watch);
    const runner = new Runner(kernels, memory, DEVICE_ID, { maxBindingBytes, maxWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension });
    this.description = {
      id: DEVICE_ID,
      backend: 'gpujs',
      kind: 'gpu',
      description: `gpu.js webgpu on ${description}`,
      software,
      lanes: 1,
      limits: { maxBufferBytes: device.limits.maxBufferSize, maxBindingBytes },
    };
    this.open = { gpu, watch, kernels, memory, runner };
    if (context.isLost) watch.markLost('gpu.js handed out a device that was already lost');
  }

  private ready(): Open {
    if (this.disposed) throw new DeviceLostError(DEVICE_ID, 'the backend was disposed');
    if (!this.open) throw new BackendUnavailableError('gpujs', 'the backend is not initialised', 'await backend.init() first');
    this.open.watch.check();
    return this.open;
  }

  private plan(call: KernelCall): BuiltinPlan {
    if (call.kernel === 'user') return userPlan(call);
    const plan = builtinPlan(call);
    if (!plan) throw new ArgumentError('call.kernel', `a kernel the gpujs backend has: user or ${GPUJS_BUILTINS.join(', ')}`, call.kernel);
    return plan;
  }
}

/** A user kernel's program; checkCall has checked the call. gpu.js computes in f32: tensors of other dtypes are converted as they are uploaded. */
function userPlan(call: KernelCall): BuiltinPlan {
  const { user, output, args } = call;
  return { kind: 'map', program: userProgram(user!, args, output.shape.length as 1 | 2 | 3), args: args as (Tensor | number)[], dims: gpuDims(output.shape) };
}
