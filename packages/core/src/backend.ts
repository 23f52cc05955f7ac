import type { IndexRange, KernelCall, Partial } from './kernel/types.ts';
import type { Tensor } from './tensor.ts';

/** The backends Tandem ships. */
export type BackendName = 'cpu' | 'webgpu' | 'gpujs' | 'tfjs';

/** A device as a backend drives it. */
export interface DeviceDescription {
  /** Unique in a session, e.g. `cpu`, `webgpu:0`, `gpujs:0`, `tfjs:wasm`. */
  readonly id: string;
  readonly backend: BackendName;
  readonly kind: 'cpu' | 'gpu';
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
   * Computes `call` over `range` of the kernel's index space (the whole of it when omitted). Map,
   * scan and sort kernels write into `call.output`; reduce kernels resolve to their partial.
   * Inputs are uploaded unless the device already holds a valid copy; results are copied back to
   * `call.output`'s host memory before the promise resolves.
   */
  run(call: KernelCall, range?: IndexRange): Promise<Partial | undefined>;
  /** Makes the device's copy of `t` valid (no-op when it already is). */
  upload(t: Tensor): Promise<void>;
  transfers(): TransferStats;
  dispose(): Promise<void>;
}
