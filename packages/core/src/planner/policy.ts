import type { Backend } from '../backend/contract.ts';
import type { KernelCall } from '../kernel/types.ts';

/**
 * How a session places data-parallel work: `auto` splits it across every healthy device by
 * predicted throughput (on a cluster session, the other nodes too, as the `cluster` device);
 * `cpu` / `gpu` use only this machine's devices of that kind; `eager` splits without a model
 * (the first free device takes the next equal chunk).
 */
export type Policy = 'auto' | 'cpu' | 'gpu' | 'eager';

export const POLICIES: readonly Policy[] = ['auto', 'cpu', 'gpu', 'eager'];

/** Whether `b` can run `call` now: healthy, with code for its kernel, and taking this call. */
export function runsCall(b: Backend, call: KernelCall): boolean {
  return b.health() === 'ok' && b.supports(call.kernel) && b.supportsCall?.(call) !== false;
}

/**
 * Devices that can run the call under the policy: healthy, and the first capable backend of each
 * kind in session order. Several backends can drive the same hardware (cpu and tfjs:wasm share
 * the cores; webgpu and gpujs one adapter): splitting work between them would only make them
 * compete for it.
 */
export function eligibleBackends(backends: readonly Backend[], call: KernelCall, policy: Policy): Backend[] {
  const out: Backend[] = [];
  for (const b of backends) {
    if (!runsCall(b, call)) continue;
    if ((policy === 'cpu' && b.device.kind !== 'cpu') || (policy === 'gpu' && b.device.kind !== 'gpu')) continue;
    if (!out.some((o) => o.device.kind === b.device.kind)) out.push(b);
  }
  return out;
}
