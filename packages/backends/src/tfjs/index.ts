/**
 * The TensorFlow.js backend: the built-in kernels as tfjs ops on the best engine present
 * (tensorflow, webgpu, wasm, cpu).
 * @packageDocumentation
 */
export { TfjsBackend, type TfjsBackendOptions } from './backend.ts';
export { loadEngine, probeEngines, TFJS_ENGINES, type TfjsEngine, type EngineInfo, type EngineProbe } from './engines.ts';
