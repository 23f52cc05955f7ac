/**
 * Task functions for examples/flights.ts: each runs over one record batch in a CPU worker
 * (`table.mapBatches`), with the batch's columns on shared memory.
 */
import type { PlainBatch } from '@tandem/core';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * From each flight's scheduled departure (a timestamp: float64 milliseconds, more precision than a
 * GPU's float32 has, so this is JavaScript in the workers rather than a kernel): the hour of day
 * (0–23), the month (1–12) and the day of the week (0 = Sunday); and from its delay, whether it
 * left more than 15 minutes late (the FAA's definition of a delayed flight).
 */
export function hourOfDay(batch: PlainBatch): { hour: Int32Array; month: Int32Array; weekday: Int32Array; late: Uint8Array } {
  const date = batch.columns.date!.values;
  const delay = batch.columns.delay!.values;
  const n = batch.rows;
  const hour = new Int32Array(n);
  const month = new Int32Array(n);
  const weekday = new Int32Array(n);
  const late = new Uint8Array(n);
  const day = new Date(0);
  for (let i = 0; i < n; i++) {
    const ms = date[i]!;
    const days = Math.floor(ms / DAY_MS);
    hour[i] = Math.floor((ms - days * DAY_MS) / HOUR_MS);
    weekday[i] = (((days + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    day.setTime(ms);
    month[i] = day.getUTCMonth() + 1;
    late[i] = delay[i]! > 15 ? 1 : 0;
  }
  return { hour, month, weekday, late };
}
