import {
  ArgumentError, BUILTIN_KERNELS, BackendUnavailableError, DeviceLostError, HOST, hostCpuDevice, PoolClosedError, WorkerPool,
  WorkerStartError, type Backend, type BackendHealth, type DeviceDescription, type IndexRange, type KernelCall,
  type PartialResult, type RunOptions, type Tensor, type TransferStats,
} from '@tandem/core/backend';
import type { MatmulEngine } from './protocol.ts';
import { runMap, runReduce, runScan, runSort, type Scheduler } from './schedule.ts';
import { checkCpuCall } from './validate.ts';

/**
 * Options of {@link CpuBackend}.
 *
 * @example
 * ```ts
 * const cpu = new CpuBackend(pool, { matmul: 'js' }); // no WebAssembly
 * ```
 */
export interface CpuBackendOptions {
  /**
   * Matmul code the workers run on their rows: `'wasm-simd'` (default; Tandem's own generated
   * WebAssembly SIMD kernel), `'tfjs-wasm'` (TensorFlow.js's XNNPACK, one engine per worker) or
   * `'js'` (plain loops, float64 accumulation).
   */
  readonly matmul?: MatmulEngine;
}

const ENGINES: readonly MatmulEngine[] = ['wasm-simd', 'tfjs-wasm', 'js'];
const ZERO_TRANSFERS: TransferStats = Object.freeze({ uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 });

/**
 * The CPU as a Tandem device: kernels run in the session's worker pool, each call's range split
 * into aligned chunks, one per worker, computed in place on shared memory. Built-in kernels are
 * plain JS except matmul (generated WebAssembly SIMD); user kernels run their own source as JS.
 * Nothing is ever uploaded or downloaded: the device's memory is the host's.
 *
 * @example
 * ```ts
 * const pool = new WorkerPool({ workers: 2 });
 * const cpu = new CpuBackend(pool);
 * await cpu.init();
 * const call = kernelCall('matmul', [a, b]);
 * await cpu.run(call);                 // call.output holds a·b
 * ```
 */
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly device: DeviceDescription;
  private readonly scheduler: Scheduler;
  private lost: string | undefined;

  /**
   * @param pool The session's worker pool; the backend never closes it.
   * @example
   * ```ts
   * const cpu = new CpuBackend(pool, { matmul: 'tfjs-wasm' });
   * ```
   */
  constructor(pool: WorkerPool, options: CpuBackendOptions = {}) {
    if (!(pool instanceof WorkerPool)) throw new ArgumentError('pool', 'the session\'s WorkerPool (from @tandem/core)', pool);
    const matmul = options.matmul ?? 'wasm-simd';
    if (!ENGINES.includes(matmul)) throw new ArgumentError('options.matmul', `one of ${ENGINES.join(', ')}`, matmul);
    const kind = pool.options.workerKind;
    this.scheduler = { pool, copyMode: kind === 'process', matmul };
    this.device = hostCpuDevice({ backend: 'cpu', workers: pool.size, workerKind: kind });
  }

  /**
   * Waits for the pool's workers; rejects with `BackendUnavailableError` when they can't start.
   * @example
   * ```ts
   * await cpu.init();
   * ```
   */
  async init(): Promise<void> {
    if (this.lost) throw new BackendUnavailableError('cpu', this.lost);
    try {
      await this.scheduler.pool.ready();
    } catch (error) {
      throw new BackendUnavailableError('cpu', `its worker pool could not start: ${(error as Error).message}`,
        'check that the worker bootstrap can load (tsx installed) and that memory limits allow a worker', error);
    }
  }

  /**
   * 'lost' once disposed, or when the pool is closed or none of its workers can run.
   * @example
   * ```ts
   * if (cpu.health() === 'lost') moveWorkElsewhere();
   * ```
   */
  health(): BackendHealth {
    if (this.lost) return 'lost';
    const pool = this.scheduler.pool;
    // Not pool.stats(): that computes percentiles, and the planner asks for health per node.
    return pool.size > 0 && pool.liveWorkers === 0 ? 'lost' : 'ok';
  }

  /**
   * Every built-in kernel and user kernels.
   * @example
   * ```ts
   * cpu.supports('matmul'); // true
   * ```
   */
  supports(kernel: string): boolean {
    return kernel === 'user' || BUILTIN_KERNELS.includes(kernel);
  }

  /**
   * Computes `call` over `range` (default: all of it) in the workers. Map, scan and sort kernels
   * write `call.output[range]`; reduce kernels resolve to the range's partial. Bad input rejects
   * with `ArgumentError`; a closed pool or disposed backend with `DeviceLostError`.
   * `options.observe` hears a `compute` event per chunk, on lane `worker <index>`, with its range.
   * @example
   * ```ts
   * const [sum] = (await cpu.run(kernelCall('sum', [x]), { start: 0, end: 1024 }))!;
   * await cpu.run(call, undefined, { observe: (e) => console.log(e.kind === 'compute' && e.lane) }); // worker 0, worker 1
   * ```
   */
  async run(call: KernelCall, range?: IndexRange, options?: RunOptions): Promise<PartialResult | undefined> {
    if (this.lost) throw new DeviceLostError('cpu', this.lost);
    const s: Scheduler = options?.observe ? { ...this.scheduler, observe: options.observe } : this.scheduler;
    const { spec, range: r } = checkCpuCall(call, range, (k) => this.supports(k), !s.copyMode);
    try {
      switch (spec.split) {
        case 'reduce':
          return await runReduce(s, spec, call, r);
        case 'map':
          await runMap(s, spec, call, r);
          break;
        case 'scan':
          await runScan(s, spec, call, r);
          break;
        case 'sort':
          await runSort(s, spec, call, r);
          break;
      }
    } catch (error) {
      if (error instanceof PoolClosedError || error instanceof WorkerStartError) {
        this.lost = `its worker pool can no longer run tasks (${(error as Error).message})`;
        throw new DeviceLostError('cpu', this.lost);
      }
      throw error;
    }
    if (r.end > r.start) call.output.residency.wroteOn(HOST);
    return undefined;
  }

  /**
   * Nothing to do: the CPU computes on the tensor's host memory.
   * @example
   * ```ts
   * await cpu.upload(t); // no-op
   * ```
   */
  async upload(_t: Tensor): Promise<void> {}

  /**
   * Always zero: workers share the host's memory.
   * @example
   * ```ts
   * cpu.transfers().uploadBytes; // 0
   * ```
   */
  transfers(): TransferStats {
    return ZERO_TRANSFERS;
  }

  /**
   * Stops taking work; the pool belongs to the session and stays open.
   * @example
   * ```ts
   * await cpu.dispose();
   * ```
   */
  async dispose(): Promise<void> {
    this.lost ??= 'the backend was disposed';
  }
}
