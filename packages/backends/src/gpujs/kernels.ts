/**
 * Builds gpu.js kernels once per program and runs them one at a time: a run sets the kernel's
 * output size and then calls it, and gpu.js reads that size only once its (asynchronous) first
 * build is done, so two runs of one kernel must not interleave.
 */
import { DeviceLostError, type KernelConstant } from '@tandem/core/backend';
import { KernelUnsupportedError } from './errors.ts';
import type { DeviceWatch } from './guard.ts';
import { notOnWebGpu } from './placement.ts';
import { withUserDialect } from './wgsl-dialect.ts';
import type { BufferHandle, GpuInstance, KernelShortcut } from './runtime.ts';

/** One gpu.js kernel as this backend builds it: the source and what its arguments are. */
export interface Program {
  /** Identifies the compiled kernel: equal keys share one. */
  readonly key: string;
  /** For messages: the built-in's name or the user kernel's. */
  readonly name: string;
  readonly source: string;
  /** gpu.js argument types, one per parameter: `WebGPUBuffer`, `Float` or `Integer`. */
  readonly argumentTypes: readonly string[];
  readonly constants?: Readonly<Record<string, KernelConstant>>;
  /** A user kernel: translated with this backend's WGSL dialect (wgsl-dialect.ts). */
  readonly user?: boolean;
  /** Sources of helper functions the kernel calls (gpu.js's `functions` setting). */
  readonly functions?: readonly string[];
}

interface Entry {
  readonly shortcut: KernelShortcut;
  /** Whether it has compiled and run once: later errors are not compile errors. */
  ran: boolean;
}

export class Kernels {
  private readonly entries = new Map<string, Entry>();
  /** Programs gpu.js can't run on the GPU, and why: they fail fast from then on. */
  private readonly rejected = new Map<string, string>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly gpu: GpuInstance,
    private readonly watch: DeviceWatch,
    private readonly device: GPUDevice,
  ) {}

  /** Why gpu.js can't run this program on the GPU, if it was tried and failed. */
  unsupported(key: string): string | undefined {
    return this.rejected.get(key);
  }

  /**
   * Runs `program` over `output` (gpu.js dims) and resolves to its result buffer, once gpu.js has
   * submitted the work. Rejects with `KernelUnsupportedError` when it did not run on WebGPU.
   */
  dispatch(program: Program, output: readonly number[], args: readonly unknown[]): Promise<BufferHandle> {
    const run = this.tail.then(() => this.dispatchNow(program, output, args));
    this.tail = run.catch(() => undefined);
    return run;
  }

  dispose(): void {
    for (const { shortcut } of this.entries.values()) {
      try {
        shortcut.kernel.destroy();
      } catch {
        // A kernel that never built has nothing to free.
      }
    }
    this.entries.clear();
  }

  private async dispatchNow(program: Program, output: readonly number[], args: readonly unknown[]): Promise<BufferHandle> {
    this.watch.check();
    const known = this.rejected.get(program.key);
    if (known !== undefined) throw new KernelUnsupportedError(program.name, known);
    const entry = this.entry(program);
    let result: unknown;
    // A first run builds the shader: a WGSL error then lands in this scope, not in gpu.js's
    // uncaptured-error handler, which prints it; the rejection below says what went wrong.
    const scoped = !entry.ran;
    if (scoped) this.device.pushErrorScope('validation');
    try {
      entry.shortcut.setOutput(output);
      result = await this.watch.guard(Promise.resolve().then(() => withUserDialect(program.user === true, () => entry.shortcut(...args))), `kernel '${program.name}'`);
    } catch (error) {
      if (error instanceof DeviceLostError) throw error;
      this.watch.check();
      if (entry.ran) throw error;
      throw this.reject(program, `gpu.js could not build it for WebGPU: ${summary(error)}`, error);
    } finally {
      if (scoped) await this.device.popErrorScope().catch(() => undefined);
    }
    const elsewhere = notOnWebGpu(entry.shortcut, result);
    if (elsewhere !== undefined) throw this.reject(program, elsewhere);
    const handle = result as BufferHandle;
    const components = entry.shortcut.kernel.componentCount ?? 1;
    if (components !== 1) {
      handle.delete();
      throw this.reject(program, `it returns Array(${components}); a kernel must return one number per output element`);
    }
    entry.ran = true;
    return handle;
  }

  private entry(program: Program): Entry {
    let entry = this.entries.get(program.key);
    if (!entry) {
      let shortcut: KernelShortcut;
      try {
        shortcut = this.gpu.createKernel(program.source, {
          argumentTypes: program.argumentTypes,
          ...(program.constants ? { constants: { ...program.constants } } : {}),
          ...(program.functions?.length ? { functions: [...program.functions] } : {}),
          // GPU-resident results (read back by us, straight into the output's shared memory), a
          // fresh buffer per run (so a kept result is never overwritten), any output size.
          pipeline: true,
          immutable: true,
          dynamicOutput: true,
          dynamicArguments: true,
        });
      } catch (error) {
        throw this.reject(program, `gpu.js could not parse it: ${summary(error)}`, error);
      }
      entry = { shortcut, ran: false };
      this.entries.set(program.key, entry);
    }
    return entry;
  }

  private reject(program: Program, reason: string, cause?: unknown): KernelUnsupportedError {
    this.rejected.set(program.key, reason);
    const entry = this.entries.get(program.key);
    this.entries.delete(program.key);
    try {
      entry?.shortcut.kernel.destroy();
    } catch {
      // Half-built kernels may have nothing to free.
    }
    return new KernelUnsupportedError(program.name, reason, cause);
  }
}

/** gpu.js's message without the generated WGSL it appends, on one line. */
function summary(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).split('--- generated WGSL ---')[0]!;
  const text = message.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}
