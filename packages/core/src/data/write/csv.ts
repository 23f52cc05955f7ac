/** Batches → CSV text (RFC 4180: fields with a comma, quote or newline are quoted). Timestamps as ISO-8601, nulls empty. */
import type { Batch, Schema } from '../batch.ts';
import { valueAt } from '../column.ts';

function field(v: unknown): string {
  if (v === null) return '';
  const s = v instanceof Date ? v.toISOString() : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(schema: Schema): string {
  return `${[...schema.keys()].map(field).join(',')}\n`;
}

export function csvRows(batch: Batch): string {
  const cols = [...batch.columns.values()];
  const lines: string[] = new Array(batch.rows);
  for (let r = 0; r < batch.rows; r++) lines[r] = cols.map((c) => field(valueAt(c, r))).join(',');
  return batch.rows > 0 ? `${lines.join('\n')}\n` : '';
}
