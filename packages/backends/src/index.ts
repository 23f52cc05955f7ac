/**
 * @tandem/backends — CPU workers, WebGPU (Dawn), gpu.js and TensorFlow.js behind one interface.
 * @packageDocumentation
 */
import { registerTandemBackends } from './registry.ts';

export { BACKEND_NAMES, createBackend, listDevices, type BackendOptions, type DeviceStatus } from './registry.ts';
export { dawn, requestAdapter, describeAdapter } from './dawn.ts';

// Importing the package is how a user gets the standard backends: `import '@tandem/backends'`.
registerTandemBackends();
