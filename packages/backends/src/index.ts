/**
 * @tandem/backends — CPU workers, WebGPU (Dawn), gpu.js and TensorFlow.js behind one interface.
 * @packageDocumentation
 */
export { BACKEND_NAMES, createBackend, listDevices, type BackendOptions, type DeviceStatus } from './registry.ts';
export { dawn, requestAdapter, describeAdapter } from './dawn.ts';
