/**
 * The WebGPU backend: Dawn (npm `webgpu`) on whatever adapter it finds, built-in kernels in WGSL.
 */
import {
  ArgumentError, BackendUnavailableError, Tensor, checkCall, unsupportedKernel, type Backend, type BackendHealth,
  type DeviceDescription, type IndexRange, type KernelCall, type PartialResult, type RunOptions, type TransferStats,
} from '@tandem/core/backend';
import { describeAdapter, requestAdapter } from '../dawn.ts';
import { observed } from '../observe.ts';
import { GpuContext } from './context.ts';
import { assertFitsBuffer } from './kernels/common.ts';
import { DRIVERS } from './kernels/index.ts';

/** Options of {@link WebGpuBackend}; all optional. */
export interface WebGpuOptions {
  /**
   * Treat bindings as limited to this many bytes (a multiple of 4, at least 4096) instead of the
   * device's `maxStorageBufferBindingSize`, when lower. Kernels then split their work the way they
   * do on a device with that limit, so small inputs exercise the chunked paths.
   */
  readonly maxBindingBytes?: number;
  /**
   * Treat a dispatch as limited to this many workgroups per dimension (at least 64) instead of
   * the device's `maxComputeWorkgroupsPerDimension`, when lower, so small inputs exercise the
   * 2-D dispatch grids that very large ones need.
   */
  readonly maxWorkgroupsPerDimension?: number;
  /** Bytes of tensor copies kept on the device for reuse, least recently used evicted first. Default 1 GiB. */
  readonly residentBytes?: number;
  /** Bytes of released buffers kept for reuse. Default 512 MiB. */
  readonly poolIdleBytes?: number;
}

const ZERO_TRANSFERS: TransferStats = { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 };

/**
 * Runs Tandem's built-in kernels on a WebGPU device through Dawn: WGSL compute shaders compiled
 * once per kernel variant, pooled buffers, tensors kept on the device while their residency says
 * they are current, asynchronous readback. Inputs larger than one binding are processed in
 * pieces, or refused with an `ArgumentError` naming the argument and the limit when a kernel
 * needs them whole. When the device is lost, `health()` turns `'lost'` and every pending and
 * later `run` rejects at once with `DeviceLostError`.
 *
 * @example
 * ```ts
 * const gpu = new WebGpuBackend();
 * await gpu.init();                                 // BackendUnavailableError when there is no adapter
 * const call = kernelCall('add', [x, y]);
 * await gpu.run(call);                              // call.output.data holds x + y
 * const [sum] = (await gpu.run(kernelCall('sum', [x]), { start: 0, end: 1000 }))!;
 * ```
 */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  private ctx: GpuContext | undefined;
  private description: DeviceDescription | undefined;
  private opening: Promise<void> | undefined;

  constructor(private readonly options: WebGpuOptions = {}) {
    const { maxBindingBytes, maxWorkgroupsPerDimension, residentBytes, poolIdleBytes } = options;
    if (maxBindingBytes !== undefined && (!Number.isSafeInteger(maxBindingBytes) || maxBindingBytes < 4096 || maxBindingBytes % 4 !== 0)) {
      throw new ArgumentError('options.maxBindingBytes', 'a multiple of 4, at least 4096', maxBindingBytes);
    }
    if (maxWorkgroupsPerDimension !== undefined && (!Number.isSafeInteger(maxWorkgroupsPerDimension) || maxWorkgroupsPerDimension < 64)) {
      throw new ArgumentError('options.maxWorkgroupsPerDimension', 'an integer of at least 64', maxWorkgroupsPerDimension);
    }
    for (const [name, v] of [['residentBytes', residentBytes], ['poolIdleBytes', poolIdleBytes]] as const) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new ArgumentError(`options.${name}`, 'a non-negative integer (bytes)', v);
    }
  }

  /**
   * The device as the planner sees it. `limits.maxBindingBytes` is the effective binding limit
   * (lowered by `options.maxBindingBytes`).
   *
   * @example
   * ```ts
   * await gpu.init();
   * console.log(gpu.device.description); // "llvmpipe: Mesa 25.0.7 ... (software)"
   * ```
   */
  get device(): DeviceDescription {
    if (!this.description) throw new Error('webgpu: device is known only after init() resolved');
    return this.description;
  }

  /**
   * The Dawn `GPUDevice`, for tests and diagnostics (e.g. `destroy()` to simulate a lost device).
   * Kernels must go through {@link WebGpuBackend.run}.
   *
   * @example
   * ```ts
   * gpu.gpuDevice.destroy();   // gpu.health() becomes 'lost'; runs reject with DeviceLostError
   * ```
   */
  get gpuDevice(): GPUDevice {
    return this.context().device;
  }

  /**
   * Opens the adapter and a device with the adapter's largest buffer limits.
   *
   * @example
   * ```ts
   * try { await gpu.init(); } catch (e) { if (e instanceof BackendUnavailableError) console.log(e.fix); }
   * ```
   */
  init(): Promise<void> {
    return (this.opening ??= this.open().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    }));
  }

  private async open(): Promise<void> {
    const adapter = await requestAdapter('webgpu');
    const { description, software } = describeAdapter(adapter);
    const al = adapter.limits;
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({
        label: 'tandem webgpu:0',
        requiredLimits: {
          maxBufferSize: al.maxBufferSize,
          maxStorageBufferBindingSize: al.maxStorageBufferBindingSize,
          maxComputeWorkgroupStorageSize: al.maxComputeWorkgroupStorageSize,
        },
      });
    } catch (error) {
      throw new BackendUnavailableError('webgpu', `the adapter (${description}) would not open a device: ${(error as Error).message}`, 'update the GPU driver, or run `npm run setup:gpu` for the software driver', error);
    }
    const dl = device.limits;
    const maxBindingBytes = Math.min(dl.maxStorageBufferBindingSize, this.options.maxBindingBytes ?? Infinity);
    const id = 'webgpu:0';
    const ctx = new GpuContext(device, id, {
      maxBindingBytes,
      maxBufferBytes: dl.maxBufferSize,
      offsetAlign: dl.minStorageBufferOffsetAlignment,
      maxWorkgroupsPerDimension: Math.min(dl.maxComputeWorkgroupsPerDimension, this.options.maxWorkgroupsPerDimension ?? Infinity),
      workgroupStorageBytes: dl.maxComputeWorkgroupStorageSize,
    }, {
      residentBytes: this.options.residentBytes ?? 2 ** 30,
      poolIdleBytes: this.options.poolIdleBytes ?? 2 ** 29,
    });
    void device.lost.then((info) => ctx.markLost(info.message || `device lost (${info.reason})`));
    // Errors outside a submission's scopes would otherwise only reach Dawn's console warning.
    device.addEventListener('uncapturederror', (e) => console.warn(`webgpu: ${(e as GPUUncapturedErrorEvent).error.message}`));
    this.ctx = ctx;
    this.description = {
      id,
      backend: 'webgpu',
      kind: 'gpu',
      description,
      software,
      lanes: 1,
      limits: { maxBufferBytes: dl.maxBufferSize, maxBindingBytes },
    };
  }

  /**
   * `'lost'` once the device is gone (destroyed, reset, driver crash, or this backend disposed).
   *
   * @example
   * ```ts
   * if (gpu.health() === 'lost') console.log('move the work elsewhere');
   * ```
   */
  health(): BackendHealth {
    return this.ctx?.lost ? 'lost' : 'ok';
  }

  /**
   * Whether `kernel` is one this backend computes: every built-in kernel; not user kernels.
   *
   * @example
   * ```ts
   * gpu.supports('matmul'); // true
   * ```
   */
  supports(kernel: string): boolean {
    return DRIVERS.has(kernel);
  }

  /**
   * Computes `call` over `range` (the whole index space when omitted). Map, scan and sort kernels
   * write the range of `call.output`; reduce kernels resolve to their partial. `options.observe`
   * hears each upload and readback (with bytes) and the queue's time on each submission (lane `queue`).
   *
   * @example
   * ```ts
   * const call = kernelCall('sort', [x]);
   * await gpu.run(call, { start: 0, end: 4096 });  // output[0..4096) holds that range, sorted
   * await gpu.run(call, undefined, { observe: (e) => console.log(e.kind) });  // upload, compute, readback
   * ```
   */
  async run(call: KernelCall, range?: IndexRange, options?: RunOptions): Promise<PartialResult | undefined> {
    const ctx = this.context();
    ctx.assertAlive();
    const { range: r } = checkCall(call, range);
    const driver = DRIVERS.get(call.kernel);
    if (!driver) throw unsupportedKernel('webgpu', call.kernel);
    // The device's own limit, beyond the shared contract: one binding holds a whole tensor.
    call.args.forEach((a, i) => a instanceof Tensor && assertFitsBuffer(ctx, a, `args[${i}]`));
    assertFitsBuffer(ctx, call.output, 'call.output');
    return ctx.guard(observed(options?.observe, () => driver(ctx, call, { start: r.start, end: r.end })));
  }

  /**
   * Makes the device's copy of `t` current, uploading only when it is not.
   *
   * @example
   * ```ts
   * await gpu.upload(weights);   // later runs reading `weights` skip the upload
   * ```
   */
  async upload(t: Tensor): Promise<void> {
    const ctx = this.context();
    ctx.assertAlive();
    if (!(t instanceof Tensor)) throw new ArgumentError('t', 'a Tensor', t);
    assertFitsBuffer(ctx, t, 't');
    ctx.resident.unpin(ctx.input(t));
  }

  /**
   * Bytes moved between host memory and the device since init.
   *
   * @example
   * ```ts
   * const { uploads, downloadBytes } = gpu.transfers();
   * ```
   */
  transfers(): TransferStats {
    return this.ctx?.transfers() ?? ZERO_TRANSFERS;
  }

  /**
   * Releases the device. Later runs reject with `DeviceLostError`.
   *
   * @example
   * ```ts
   * await gpu.dispose();
   * ```
   */
  async dispose(): Promise<void> {
    const ctx = this.ctx;
    if (!ctx || ctx.lost) return;
    ctx.markLost('the backend was disposed');
    ctx.pool.clear();
    ctx.device.destroy();
  }

  /**
   * Diagnostics for tests and tuning: pipelines compiled, pool reuse, bytes of resident copies.
   *
   * @example
   * ```ts
   * const { pipelines, buffersReused } = gpu.stats();
   * ```
   */
  stats(): { pipelines: number; buffersCreated: number; buffersReused: number; residentBytes: number } {
    const ctx = this.context();
    const pool = ctx.pool.stats();
    return { pipelines: ctx.pipelines.compiled, buffersCreated: pool.created, buffersReused: pool.reused, residentBytes: ctx.resident.residentBytes };
  }

  private context(): GpuContext {
    if (!this.ctx) throw new Error('webgpu: call init() first');
    return this.ctx;
  }
}
