import type { IndexRange, KernelCall, PartialResult } from '../kernel/types.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** A backend's registered name: Tandem's own are `cpu`, `webgpu`, `gpujs` and `tfjs` (registered by `@tandem/backends`). */
export type BackendName = string;

/** A device as a backend drives it. */
export interface DeviceDescription {
  /** Unique in a session, e.g. `cpu`, `webgpu:0`, `gpujs:0`, `tfjs:wasm`. */
  readonly id: string;
  readonly backend: BackendName;
  /** `cluster`: the other machines of a cluster session, reached through Redis. */
  readonly kind: 'cpu' | 'gpu' | 'cluster';
  /** The adapter's or engine's own description, e.g. "llvmpipe (LLVM 19.1.7, 256 bits)" or "NVIDIA H100". */
  readonly description: string;
  /** A software rasteriser or emulation: on the CPU, whatever the `kind`. */
  readonly software: boolean;
  /** Parallel lanes the session drives (worker count for the CPU, 1 for a GPU queue). */
  readonly lanes: number;
  readonly limits: {
    /** Largest single buffer (bytes) the device accepts. */
    readonly maxBufferBytes: number;
    /** Largest buffer one kernel binding may see (WebGPU's maxStorageBufferBindingSize). */
    readonly maxBindingBytes: number;
  };
}

export type BackendHealth = 'ok' | 'lost';

/** Bytes moved between host memory and a device. */
export interface TransferStats {
  readonly uploads: number;
  readonly uploadBytes: number;
  readonly downloads: number;
  readonly downloadBytes: number;
}

/**
 * Something a backend did while running one call, reported to {@link RunOptions.observe} as it
 * happens, so the trace can show where the time went inside a run. Times are `performance.now()`
 * milliseconds on the host's clock; `end >= start`.
 *
 * - `compute`: a lane of the device computed: a CPU worker (`lane: 'worker 0'`) ran the sub-range
 *   `range`, or a GPU queue (`lane: 'queue'`) executed the run's submitted work.
 * - `upload` / `readback`: `bytes` moved host→device or device→host (the host-side part: a copy
 *   queued to the device, or a mapped buffer waited for and copied out).
 */
export type RunEvent =
  | { readonly kind: 'compute'; readonly lane: string; readonly start: number; readonly end: number; readonly range?: IndexRange }
  | { readonly kind: 'upload' | 'readback'; readonly bytes: number; readonly start: number; readonly end: number };

/** Receives a run's {@link RunEvent}s. Must not throw (backends ignore what it throws) and should return at once. */
export type RunObserver = (event: RunEvent) => void;

/**
 * Optional extras of {@link Backend.run}. A backend that can't report what is asked simply
 * doesn't: every field is a request, never a requirement.
 *
 * @example
 * ```ts
 * const events: RunEvent[] = [];
 * await backend.run(call, undefined, { observe: (e) => events.push(e) });
 * events.filter((e) => e.kind === 'upload');   // [{ kind: 'upload', bytes: 4096, start, end }, …]
 * ```
 */
export interface RunOptions {
  /**
   * Called for each piece of the run as it ends: which CPU worker computed which sub-range, when
   * the GPU queue ran the work, each upload and readback with its bytes. Events of one run may
   * arrive until the run's promise settles, never after.
   */
  readonly observe?: RunObserver;
}

/**
 * One compute device behind one interface. The planner runs any kernel on any backend that
 * supports it, over the whole index space or a sub-range, and compares them.
 *
 * Contract: `run` resolves or rejects — never hangs — including after the device is lost, when it
 * rejects with code `ERR_TANDEM_DEVICE_LOST` so the executor can move the work elsewhere.
 */
export interface Backend {
  readonly name: BackendName;
  /** Valid after {@link Backend.init} resolved. */
  readonly device: DeviceDescription;
  /** Finds and opens the device; rejects with a `BackendUnavailableError` saying why and how to fix it. */
  init(): Promise<void>;
  health(): BackendHealth;
  /** Whether this backend has code for the kernel (built-in name, or `user` for user kernels). */
  supports(kernel: string): boolean;
  /**
   * For a backend that runs only some calls of a kernel it supports: whether it runs this one.
   * The cluster runs only user kernels its nodes can load (declared with their module).
   */
  supportsCall?(call: KernelCall): boolean;
  /**
   * Computes `call` over `range` of the kernel's index space (the whole of it when omitted). Map,
   * scan and sort kernels write into `call.output`; reduce kernels resolve to their partial.
   * Inputs are uploaded unless the device already holds a valid copy; results are copied back to
   * `call.output`'s host memory before the promise resolves. `options.observe`, when given, hears
   * what the run did, piece by piece ({@link RunEvent}); backends that can't tell stay silent.
   */
  run(call: KernelCall, range?: IndexRange, options?: RunOptions): Promise<PartialResult | undefined>;
  /** Makes the device's copy of `t` valid (no-op when it already is). */
  upload(t: Tensor): Promise<void>;
  transfers(): TransferStats;
  dispose(): Promise<void>;
}
