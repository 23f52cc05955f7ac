/**
 * Runs one call on one backend and records, as activities of the recorder, what the backend
 * reports of it (`Backend.run`'s `options.observe`): per CPU worker the sub-ranges it computed,
 * a GPU queue's time, each upload and readback with its bytes. A backend that reports no compute
 * of its own gets the whole run drawn on one lane (`queue` for a GPU), so every device that
 * worked has a compute track.
 */
import type { Backend, RunEvent } from '../backend/contract.ts';
import type { IndexRange, KernelCall, PartialResult } from '../kernel/types.ts';
import type { Recorder } from '../trace/recorder.ts';
import { noteStart, type RunStart } from '../backend/run-start.ts';

const rangeText = (r: IndexRange) => `[${r.start}:${r.end})`;

/**
 * `b.run(call, range)`, its activity recorded on `recorder` (when given) under the kernel's name
 * `key`; `start`, when given, learns when the backend began (see `ownMs`).
 */
export async function observedRun(b: Backend, call: KernelCall, range: IndexRange | undefined, recorder: Recorder | undefined, key: string, start?: RunStart): Promise<PartialResult | undefined> {
  if (!recorder && !start) return b.run(call, range);
  const device = b.device.id;
  let computed = false;
  const began = start && noteStart(start);
  const observe = (e: RunEvent): void => {
    began?.(e);
    if (!recorder) return;
    if (e.kind === 'compute') {
      computed = true;
      const name = e.range ? `${key}${rangeText(e.range)}` : key;
      recorder.activity(device, e.lane, 'compute', name, e.start, e.end, e.range ? { elements: e.range.end - e.range.start } : {});
    } else {
      recorder.activity(device, 'transfers', 'transfer', e.kind === 'upload' ? 'upload' : 'readback', e.start, e.end, { bytes: e.bytes, direction: e.kind === 'upload' ? 'host→device' : 'device→host', kernel: key });
    }
  };
  const t0 = performance.now();
  let failure: unknown;
  try {
    return await b.run(call, range, { observe });
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    if (recorder && !computed) {
      const lane = b.device.kind === 'gpu' ? 'queue' : 'compute';
      recorder.activity(device, lane, 'compute', range ? `${key}${rangeText(range)}` : key, t0, performance.now(), failure ? { error: (failure as Error).message } : {});
    }
  }
}
