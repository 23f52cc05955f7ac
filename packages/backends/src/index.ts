/**
 * @tandem/backends — CPU workers, WebGPU (Dawn), gpu.js and TensorFlow.js behind one interface.
 * Empty until the backends land (issue #3); the package exists so the workspace layout is fixed.
 * @packageDocumentation
 */
export {};
