import type { Backend } from '../backend/contract.ts';

/**
 * How a session places data-parallel work: `auto` splits it across every healthy device by
 * predicted throughput; `cpu` / `gpu` use only devices of that kind; `eager` splits without a
 * model (the first free device takes the next equal chunk).
 */
export type Policy = 'auto' | 'cpu' | 'gpu' | 'eager';

export const POLICIES: readonly Policy[] = ['auto', 'cpu', 'gpu', 'eager'];

/**
 * Devices that can run the call under the policy: healthy, and the first capable backend of each
 * kind in session order. Several backends can drive the same hardware (cpu and tfjs:wasm share
 * the cores; webgpu and gpujs one adapter): splitting work between them would only make them
 * compete for it.
 */
export function eligibleBackends(backends: readonly Backend[], kernel: string, policy: Policy): Backend[] {
  const out: Backend[] = [];
  for (const b of backends) {
    if (b.health() !== 'ok' || !b.supports(kernel)) continue;
    if ((policy === 'cpu' && b.device.kind !== 'cpu') || (policy === 'gpu' && b.device.kind !== 'gpu')) continue;
    if (!out.some((o) => o.device.kind === b.device.kind)) out.push(b);
  }
  return out;
}
