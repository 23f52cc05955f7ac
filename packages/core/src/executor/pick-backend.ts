import type { Backend } from '../backend/contract.ts';
import { ArgumentError, BackendUnavailableError } from '../errors.ts';
import type { KernelCall } from '../kernel/types.ts';
import { runsCall } from '../planner/policy.ts';

/** Picks the backend for a call: the one named by `device` (an id or a backend name), else the first healthy one that supports it. */
export function pickBackend(backends: readonly Backend[], call: KernelCall, device: string | undefined): Backend {
  const kernel = call.kernel;
  const able = backends.filter((b) => runsCall(b, call));
  if (device !== undefined) {
    const chosen = able.find((b) => b.device.id === device || b.name === device);
    if (!chosen) {
      throw new ArgumentError('options.device', `a healthy device of this session that runs kernel '${kernel}' (${able.map((b) => b.device.id).join(', ') || 'none'})`, device);
    }
    return chosen;
  }
  const first = able[0];
  if (!first) throw new BackendUnavailableError(kernel, `no healthy backend in this session runs kernel '${kernel}'`, `open a session with a backend that has it (${backends.map((b) => b.name).join(', ') || 'none open'})`);
  return first;
}
