/**
 * Writes recorded spans and activities as Chrome trace-event JSON (Perfetto, chrome://tracing):
 * each device a process, each of its lanes a thread — `calls` (the executor's spans), the lanes
 * its backend reported (`worker 0`, `worker 1`, …, or `queue`), then `transfers`. Complete ('X')
 * events in whole microseconds. Trace viewers draw the events of one thread as a stack, so events
 * on one track must not overlap: where they do (two calls in flight on one device, two readbacks
 * waiting at once) the later ones go to an overflow track, `calls (2)`, named after the first.
 */
import type { Activity, Span } from './types.ts';

export interface ChromeTrace {
  readonly traceEvents: object[];
  readonly displayTimeUnit: 'ms';
}

interface Item {
  readonly device: string;
  readonly lane: string;
  readonly event: { name: string; cat: string; args: Readonly<Record<string, unknown>> };
  /** µs, integer. */
  readonly ts: number;
  readonly dur: number;
}

/** Lanes in the order a viewer should list them: the executor's calls, the compute lanes, transfers. */
function laneRank(lane: string): number {
  return lane === 'calls' ? 0 : lane === 'transfers' ? 2 : 1;
}

export function chromeTrace(spans: readonly Span[], activities: readonly Activity[]): ChromeTrace {
  const items: Item[] = [];
  const us = (ms: number) => Math.round(ms * 1000);
  const add = (device: string, lane: string, name: string, cat: string, start: number, duration: number, args: Readonly<Record<string, unknown>>) => {
    const ts = us(start);
    // At least 1 µs, or a viewer would not draw it.
    items.push({ device, lane, event: { name, cat, args }, ts, dur: Math.max(1, us(start + duration) - ts) });
  };
  for (const s of spans) add(s.track, 'calls', s.name, 'kernel', s.start, s.duration, s.args);
  for (const a of activities) add(a.device, a.lane, a.name, a.cat, a.start, a.duration, a.args);

  const devices = [...new Set(items.map((i) => i.device))];
  const events: object[] = [];
  let nextTid = 1;
  devices.forEach((device, d) => {
    const pid = d + 1;
    events.push({ name: 'process_name', ph: 'M', pid, args: { name: device } });
    events.push({ name: 'process_sort_index', ph: 'M', pid, args: { sort_index: pid } });
    const mine = items.filter((i) => i.device === device);
    const lanes = [...new Set(mine.map((i) => i.lane))].sort((a, b) => laneRank(a) - laneRank(b) || a.localeCompare(b, 'en', { numeric: true }));
    for (const lane of lanes) {
      // Pack the lane's events, in start order, onto the first of its tracks that is free by then.
      const tracks: Array<{ tid: number; end: number }> = [];
      for (const item of mine.filter((i) => i.lane === lane).sort((a, b) => a.ts - b.ts)) {
        let track = tracks.find((t) => t.end <= item.ts);
        if (!track) {
          track = { tid: nextTid++, end: 0 };
          const name = tracks.length === 0 ? lane : `${lane} (${tracks.length + 1})`;
          events.push({ name: 'thread_name', ph: 'M', pid, tid: track.tid, args: { name } });
          events.push({ name: 'thread_sort_index', ph: 'M', pid, tid: track.tid, args: { sort_index: track.tid } });
          tracks.push(track);
        }
        track.end = item.ts + item.dur;
        events.push({ ...item.event, ph: 'X', pid, tid: track.tid, ts: item.ts, dur: item.dur });
      }
    }
  });
  return { traceEvents: events, displayTimeUnit: 'ms' };
}
