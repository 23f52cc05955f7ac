import * as tf from '@tensorflow/tfjs-core';
import {
  ArgumentError, BackendUnavailableError, BUILTIN_KERNELS, DeviceLostError, HOST, checkCall, unsupportedKernel, type Backend,
  type BackendHealth, type DeviceDescription, type IndexRange, type KernelCall, type PartialResult, type RunOptions, type Tensor,
  type TransferStats,
} from '@tandem/core/backend';
import { observed } from '../observe.ts';
import { DeviceCopies } from './copies.ts';
import { TFJS_ENGINES, loadEngine, type EngineInfo, type TfjsEngine } from './engines.ts';
import { HOST_KERNELS, KERNELS, TF_KERNELS, type KernelContext } from './kernels.ts';
import { onEngine } from './switch.ts';

export interface TfjsBackendOptions {
  /**
   * The engine to use; `init()` rejects with `BackendUnavailableError` when it can't start here.
   * Without it, the first of `tensorflow`, `webgpu`, `wasm`, `cpu` that initialises — except that a
   * webgpu engine on a software adapter comes after wasm and cpu, since it emulates a GPU on the CPU.
   */
  readonly engine?: TfjsEngine;
  /** Device memory for kept copies of input and output tensors, oldest dropped first (default 1 GiB). */
  readonly cacheBytes?: number;
}

/** WebGPU dispatches are capped at 65535 workgroups a dimension: tfjs's matmul and conv2d pass it at 2^21 output rows (outputs). */
const WEBGPU_ROWS_PER_OP = 2 ** 20;
const ZERO: TransferStats = { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 };

/**
 * The built-in kernels on TensorFlow.js, with the best engine present: `tensorflow`
 * (`@tensorflow/tfjs-node`, optional), `webgpu` (tfjs-backend-webgpu on Dawn), `wasm` (SIMD; no
 * threads in Node) or `cpu` (plain JavaScript). No user kernels.
 *
 * tfjs is one global engine per thread. Several TfjsBackends may share a thread, with the same or
 * different engines: their runs are serialised, and each run makes its engine tfjs's active
 * backend for its duration and then restores whichever backend was active before, so none of
 * them (nor the application's own tfjs code) has its engine switched under it. One engine's runs
 * are never concurrent anyway: tfjs runs one op at a time per thread. The `tensorflow` engine
 * loads in one thread per process only.
 *
 * @example
 * ```ts
 * const backend = new TfjsBackend({ engine: 'wasm' });
 * await backend.init();
 * const call = kernelCall('matmul', [a, b]);
 * await backend.run(call);                 // call.output.data holds a × b
 * console.log(backend.device.id);          // 'tfjs:wasm'
 * ```
 */
export class TfjsBackend implements Backend {
  readonly name = 'tfjs' as const;
  private readonly requested: TfjsEngine | undefined;
  private readonly cacheBytes: number;
  private starting: Promise<void> | undefined;
  private info: EngineInfo | undefined;
  private description: DeviceDescription | undefined;
  private copies: DeviceCopies | undefined;
  private supported = new Set<string>();
  private ended: string | undefined;
  /** Aborts, with a DeviceLostError, when the engine's device is lost. */
  private readonly lost = new AbortController();

  constructor(options: TfjsBackendOptions = {}) {
    if (options.engine !== undefined && !TFJS_ENGINES.includes(options.engine)) {
      throw new ArgumentError('options.engine', `one of ${TFJS_ENGINES.join(', ')}`, options.engine);
    }
    const cacheBytes = options.cacheBytes ?? 2 ** 30;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) throw new ArgumentError('options.cacheBytes', 'a non-negative integer', cacheBytes);
    this.requested = options.engine;
    this.cacheBytes = cacheBytes;
  }

  /**
   * The engine in use: the requested one, or after `init()` the one picked.
   *
   * @example
   * ```ts
   * const backend = new TfjsBackend();
   * await backend.init();
   * console.log(backend.engine);   // 'webgpu' on a hardware GPU adapter; else 'wasm' (also beside a software one)
   * ```
   */
  get engine(): TfjsEngine | undefined {
    return this.info?.engine ?? this.requested;
  }

  /**
   * The engine as a device: id `tfjs:<engine>`, kind `gpu` for webgpu (else `cpu`), the engine's
   * and (webgpu) the adapter's description. Throws before `init()`.
   *
   * @example
   * ```ts
   * console.log(backend.device.description); // 'TensorFlow.js 4.22.0 wasm (SIMD, 1 thread)'
   * ```
   */
  get device(): DeviceDescription {
    if (!this.description) throw new BackendUnavailableError('tfjs', 'the backend is not initialised', 'await backend.init() first');
    return this.description;
  }

  /**
   * Loads and initialises the engine.
   *
   * @example
   * ```ts
   * try { await new TfjsBackend({ engine: 'tensorflow' }).init(); }
   * catch (e) { console.log((e as BackendUnavailableError).fix); } // npm install @tensorflow/tfjs-node …
   * ```
   */
  init(): Promise<void> {
    this.starting ??= this.start();
    return this.starting;
  }

  private async start(): Promise<void> {
    let info: EngineInfo | undefined;
    if (this.requested) {
      info = await loadEngine(this.requested);
    } else {
      const reasons: string[] = [];
      let emulated: EngineInfo | undefined;
      for (const engine of TFJS_ENGINES) {
        try {
          const loaded = await loadEngine(engine);
          // A software GPU (lavapipe) emulates a GPU on these same cores, ~6× slower than wasm
          // for matmul here: the best engine present is then the next real one.
          if (loaded.software) {
            emulated ??= loaded;
            continue;
          }
          info = loaded;
          break;
        } catch (error) {
          reasons.push((error as Error).message);
        }
      }
      info ??= emulated;
      if (!info) throw new BackendUnavailableError('tfjs', `no engine initialised (${reasons.join('; ')})`, 'reinstall dependencies with `npm install`');
    }
    const id = `tfjs:${info.engine}`;
    this.info = info;
    this.copies = new DeviceCopies(id, this.cacheBytes);
    this.supported = supportedKernels(info.engine);
    this.description = {
      id,
      backend: 'tfjs',
      kind: info.kind,
      description: info.description,
      software: info.software,
      lanes: 1,
      limits: { maxBufferBytes: info.maxBufferBytes, maxBindingBytes: info.maxBindingBytes },
    };
    void info.lost.then((reason) => {
      this.ended ??= reason;
      this.lost.abort(new DeviceLostError(id, reason));
    });
  }

  /**
   * `lost` once the engine's device is lost (webgpu) or the backend is disposed; `ok` otherwise.
   *
   * @example
   * ```ts
   * if (backend.health() === 'lost') await replaceBackend();
   * ```
   */
  health(): BackendHealth {
    return this.ended === undefined ? 'ok' : 'lost';
  }

  /**
   * Whether the active engine runs `kernel`: a built-in whose tfjs kernels the engine registers.
   *
   * @example
   * ```ts
   * if (backend.supports('histogram')) await backend.run(kernelCall('histogram', [x], { bins: 64, lo: 0, hi: 1 }));
   * ```
   */
  supports(kernel: string): boolean {
    return this.supported.has(kernel);
  }

  /**
   * Computes `call` over `range` (default: all of it), copying results into `call.output`; reduce
   * kernels resolve to their partial. `options.observe` hears each upload and readback, with its bytes.
   *
   * @example
   * ```ts
   * const call = kernelCall('sum', [x]);
   * const partial = await backend.run(call, { start: 0, end: x.size / 2 }); // [sum of the first half]
   * ```
   */
  run(call: KernelCall, range?: IndexRange, options?: RunOptions): Promise<PartialResult | undefined> {
    return observed(options?.observe, () => this.compute(call, range));
  }

  private async compute(call: KernelCall, range: IndexRange | undefined): Promise<PartialResult | undefined> {
    const { info, copies } = this.ready();
    const id = this.device.id;
    const { spec, range: r } = checkCall(call, range);
    if (!this.supports(call.kernel)) throw unsupportedKernel(this.name, call.kernel);
    const output = call.output;
    // Sizes are checked per device tensor (input()): matmul and conv2d work in blocks, so their ranges may exceed a binding.
    return onEngine(info.engine, async () => {
      let kept: tf.Tensor | undefined;
      const whole = r.start === 0 && r.end === output.size;
      const ctx: KernelContext = {
        call,
        engine: info.engine,
        maxRowsPerOp: info.engine === 'webgpu' ? WEBGPU_ROWS_PER_OP : Number.POSITIVE_INFINITY,
        maxOutputsPerOp: info.engine === 'webgpu' ? WEBGPU_ROWS_PER_OP : Number.POSITIVE_INFINITY,
        maxElements: Math.floor(info.maxBindingBytes / 4),
        input: (i, start, end) => this.input(call.args[i] as Tensor, `call.args[${i}]`, start, end),
        send: (values) => copies.send(values, 0, values.length),
        read: async (t) => {
          try {
            return await copies.read(t);
          } finally {
            if (!copies.isKept(t)) t.dispose();
          }
        },
        write: async (start, t, keepable = true) => {
          let keep = false;
          try {
            (output.data as Float32Array).set(await copies.read(t), start);
            keep = keepable && whole && t.size === output.size;
          } finally {
            if (keep) kept = t;
            else if (!copies.isKept(t)) t.dispose();
          }
        },
      };
      // tfjs-backend-webgpu doesn't check what Dawn rejects (a binding past the limit, out of memory):
      // Dawn logs it and the kernel reads garbage. Error scopes turn that into a failed run.
      let scoped = info.gpu;
      scoped?.pushErrorScope('validation');
      scoped?.pushErrorScope('out-of-memory');
      try {
        const partial = await KERNELS[call.kernel]!(ctx, r);
        if (scoped) {
          const errors = [await scoped.popErrorScope(), await scoped.popErrorScope()].filter((e) => e !== null);
          scoped = undefined;
          if (errors.length > 0) throw new Error(`${id} rejected the work of kernel '${call.kernel}': ${errors.map((e) => e!.message).join('; ')}`);
        }
        if (spec.split !== 'reduce') {
          output.residency.wroteOn(id);
          output.residency.addCopy(HOST);
          if (kept) copies.adopt(output, tf.reshape(kept, [-1]) as tf.Tensor1D);
        }
        return partial;
      } finally {
        if (scoped) {
          await scoped.popErrorScope().catch(() => null);
          await scoped.popErrorScope().catch(() => null);
        }
        kept?.dispose();
      }
    }, info.gpu ? this.lost.signal : undefined).catch(async (error: unknown) => {
      // A run that failed because the device went away reports the loss; its lost promise settles a moment after.
      if (info.gpu && this.ended === undefined && !(error instanceof ArgumentError)) {
        await Promise.race([info.lost, new Promise((resolve) => setTimeout(resolve, 100))]);
      }
      if (this.ended !== undefined && !(error instanceof DeviceLostError)) throw new DeviceLostError(id, this.ended);
      throw error;
    });
  }

  /**
   * Makes the device's copy of `t` current (uploads it unless it already is).
   *
   * @example
   * ```ts
   * await backend.upload(weights);   // later runs reading `weights` upload nothing
   * ```
   */
  async upload(t: Tensor): Promise<void> {
    const { info } = this.ready();
    if (t?.dtype !== 'float32') throw new ArgumentError('t.dtype', 'float32 (the tfjs backend keeps float32 tensors)', t?.dtype);
    await onEngine(info.engine, async () => {
      this.input(t, 't', 0, t.size);
    }, info.gpu ? this.lost.signal : undefined);
  }

  /**
   * Bytes this backend moved: uploads are tensors made from host data, downloads results read back.
   *
   * @example
   * ```ts
   * const { uploadBytes, downloadBytes } = backend.transfers();
   * ```
   */
  transfers(): TransferStats {
    return this.copies?.transfers() ?? ZERO;
  }

  /**
   * Frees this backend's device copies; the engine stays loaded for other TfjsBackends in this
   * thread (tfjs can't unload one and load it again). Later runs reject with `DeviceLostError`.
   *
   * @example
   * ```ts
   * await backend.dispose();
   * ```
   */
  async dispose(): Promise<void> {
    if (this.ended === 'the backend was disposed') return;
    const lost = this.ended !== undefined;
    this.ended = 'the backend was disposed';
    const { info, copies } = this;
    if (!info || !copies) return;
    if (lost) copies.clear();
    else await onEngine(info.engine, async () => copies.clear());
  }

  private ready(): { info: EngineInfo; copies: DeviceCopies } {
    if (this.ended !== undefined && this.description) throw new DeviceLostError(this.description.id, this.ended);
    if (!this.info || !this.copies) throw new BackendUnavailableError('tfjs', 'the backend is not initialised', 'await backend.init() before run()');
    return { info: this.info, copies: this.copies };
  }

  /** `t[start, end)` on the device: a slice of the kept copy, all of `t` uploaded and kept, or just the range uploaded. */
  private input(t: Tensor, name: string, start: number, end: number): tf.Tensor1D {
    const copies = this.copies!;
    const held = copies.valid(t);
    const whole = start === 0 && end === t.size;
    if (held) return whole ? held : tf.slice(held, start, end - start);
    const bytes = (whole ? t.size : end - start) * 4;
    if (bytes > this.info!.maxBindingBytes) {
      throw new ArgumentError(name, `at most ${this.info!.maxBindingBytes} bytes on ${this.device.id} (its largest buffer binding); run smaller ranges`, `${bytes} bytes`);
    }
    return whole ? copies.upload(t) : copies.send(t.data as Float32Array, start, end);
  }
}

/** The built-ins whose tfjs kernels `engine` registers (or that it runs on the host). */
function supportedKernels(engine: TfjsEngine): Set<string> {
  const registered = new Set(tf.getKernelsForBackend(engine).map((k) => k.kernelName));
  const out = new Set<string>();
  for (const name of BUILTIN_KERNELS) {
    if (!KERNELS[name]) continue;
    const needs = ['Slice', 'Reshape', ...(TF_KERNELS[name] ?? [])];
    if (HOST_KERNELS[engine]?.includes(name) || needs.every((k) => registered.has(k))) out.add(name);
  }
  return out;
}
