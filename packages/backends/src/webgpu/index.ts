/**
 * The WebGPU backend (Dawn through the npm package `webgpu`).
 * @packageDocumentation
 */
export { WebGpuBackend, type WebGpuOptions } from './backend.ts';
