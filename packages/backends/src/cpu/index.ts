/**
 * The cpu backend: kernels in the session's worker threads over sub-ranges, on shared memory.
 * @packageDocumentation
 */
export { CpuBackend, type CpuBackendOptions } from './backend.ts';
export type { MatmulEngine } from './protocol.ts';
