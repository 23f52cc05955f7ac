/**
 * The gpujs backend: gpu.js 2.24 in its `webgpu` mode on Dawn, running built-in kernels and the
 * user's own gpu.js-dialect kernels on the GPU — never on gpu.js's CPU path.
 * @packageDocumentation
 */
export { GpuJsBackend, type GpuJsBackendOptions } from './backend.ts';
export { KernelUnsupportedError } from './errors.ts';
export { offsetSource } from './user-program.ts';
export { notOnWebGpu } from './placement.ts';
export { GPUJS_BUILTINS } from './builtin-programs.ts';
