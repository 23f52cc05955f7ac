/**
 * Compiled compute pipelines, one per (kernel, variant): compiling WGSL through Tint and the
 * driver takes milliseconds to seconds (on a software device), so it happens once per device.
 */

export class PipelineCache {
  private readonly cache = new Map<string, Promise<GPUComputePipeline>>();
  private compiles = 0;

  constructor(private readonly device: GPUDevice) {}

  /** The pipeline for `key`, compiling `source()` (entry point `main`) the first time it is asked for. */
  get(key: string, source: () => string): Promise<GPUComputePipeline> {
    let p = this.cache.get(key);
    if (!p) {
      p = this.compile(key, source());
      this.cache.set(key, p);
      // A failed compile is not cached: the next call reports the error again instead of a stale promise.
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  /** Pipelines compiled so far (each (kernel, variant) counts once). */
  get compiled(): number {
    return this.compiles;
  }

  private async compile(key: string, code: string): Promise<GPUComputePipeline> {
    this.compiles++;
    const module = this.device.createShaderModule({ code, label: `tandem ${key}` });
    try {
      return await this.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: `tandem ${key}` });
    } catch (error) {
      const info = await module.getCompilationInfo().catch(() => undefined);
      const messages = info?.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}`).join('\n') ?? '';
      throw new Error(`webgpu: pipeline '${key}' failed to compile: ${(error as Error).message}${messages ? `\n${messages}` : ''}`, { cause: error });
    }
  }
}
