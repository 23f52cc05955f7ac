import type { Backend } from '../backend/contract.ts';
import { splitRange } from '../kernel/builtins.ts';
import { kernelKey, specFor } from '../kernel/key.ts';
import type { KernelCall, PartialResult } from '../kernel/types.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { Recorder } from '../trace/recorder.ts';
import type { RunStart } from '../backend/run-start.ts';
import { observedRun } from './observed-run.ts';

/**
 * Runs a call on one backend in `parts` ranges (1: the whole index space) and merges the
 * per-range results into the output. Tensor inputs still being computed are awaited first.
 * With a recorder, what the backend reports of the run is recorded for the trace; `start` learns
 * when the backend began on it (see `ownMs`).
 */
export async function runCall(backend: Backend, call: KernelCall, parts = 1, recorder?: Recorder, start?: RunStart): Promise<Tensor> {
  for (const arg of call.args) if (arg instanceof Tensor) await arg.values();
  const spec = specFor(call);
  const extent = spec.extent(call);
  const ranges = parts <= 1 ? [{ start: 0, end: extent }] : splitRange(extent, parts, spec.align?.(call) ?? 1);
  const partials: (PartialResult | undefined)[] = await Promise.all(ranges.map((r) => observedRun(backend, call, parts <= 1 ? undefined : r, recorder, kernelKey(call), start)));
  spec.merge?.(call, ranges, partials);
  return call.output;
}
