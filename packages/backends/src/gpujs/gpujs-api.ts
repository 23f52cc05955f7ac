/** The part of gpu.js's API Tandem uses, typed (gpu.js ships no types for its WebGPU mode). */

/** gpu.js's shared WebGPU device: one per thread, owned by gpu.js, reused by every `GPU` instance. */
export interface WebGpuContext {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  /** Set by gpu.js when `device.lost` resolves. */
  readonly isLost: boolean;
}

/** A GPU-resident array gpu.js binds wherever a kernel declared an array argument (its "pipeline handle"). */
export interface BufferHandle {
  readonly buffer: GPUBuffer;
  /** Dimensions in gpu.js order, `[x, y, z]`. */
  readonly output: readonly number[];
  readonly context: WebGpuContext;
  readonly type: 'WebGPUBuffer';
  delete(): void;
}

/** The kernel object behind a shortcut: the backend it really compiled for and ran on. */
export interface BuiltKernel {
  readonly constructor: { readonly mode?: string; readonly name: string };
  readonly fallbackRequested?: boolean;
  readonly fallbackReason?: string | null;
  readonly componentCount?: number;
  readonly compiledSource?: string | null;
  destroy(): void;
}

/** What `gpu.createKernel` returns: callable, with the current kernel on `.kernel`. */
export interface KernelShortcut {
  (...args: unknown[]): unknown;
  setOutput(output: readonly number[]): KernelShortcut;
  readonly kernel: BuiltKernel;
  destroy?(): void;
}

export interface KernelSettings {
  readonly argumentTypes: readonly string[];
  readonly constants?: Record<string, unknown>;
  readonly functions?: readonly string[];
  readonly pipeline: true;
  readonly immutable: true;
  readonly dynamicOutput: true;
  readonly dynamicArguments: true;
}

export interface GpuInstance {
  readonly mode: string;
  createKernel(source: string, settings: KernelSettings): KernelShortcut;
  destroy(): Promise<void> | void;
}

export interface GpuJs {
  readonly GPU: new (settings: { mode: 'webgpu' | 'cpu' }) => GpuInstance;
  readonly WebGPUContext: { acquire(): Promise<WebGpuContext>; destroy(): Promise<void> };
  readonly WebGPUBufferResult: new (settings: { buffer: GPUBuffer; output: number[]; componentCount: number; context: WebGpuContext; kernel: unknown }) => BufferHandle;
}
