/**
 * Column types of text formats (CSV, JSON lines), decided from the first rows: a column is a
 * number when every non-empty value parses as one, a boolean when every one is true/false, a
 * timestamp when every one is an ISO-8601 date, else a string. Empty values are nulls.
 */
import type { ColumnType } from '../column.ts';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Whether a text value is null (empty). */
export const isNullText = (v: unknown): boolean => v === undefined || v === null || v === '';

/** The type a column of sample values takes. */
export function inferType(samples: readonly unknown[]): ColumnType {
  let numbers = true, bools = true, dates = true, any = false;
  for (const v of samples) {
    if (isNullText(v)) continue;
    any = true;
    if (typeof v === 'number') { bools = false; dates = false; continue; }
    if (typeof v === 'boolean') { numbers = false; dates = false; continue; }
    const s = String(v).trim();
    if (numbers && !isNumberText(s)) numbers = false;
    if (bools && s !== 'true' && s !== 'false') bools = false;
    if (dates && !ISO_DATE.test(s)) dates = false;
    if (!numbers && !bools && !dates) return 'string';
  }
  if (!any) return 'string';
  return numbers ? 'float64' : bools ? 'bool' : dates ? 'timestamp' : 'string';
}

export function isNumberText(s: string): boolean {
  return s !== '' && Number.isFinite(Number(s));
}

/**
 * The stored value of text `v` in a column of `type`, or `undefined` if it doesn't parse (the
 * caller says where). Nulls are handled before.
 */
export function parseValue(type: ColumnType, v: unknown): number | string | undefined {
  if (type === 'string') return typeof v === 'string' ? v : JSON.stringify(v);
  if (typeof v === 'number') return type === 'float64' && Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return type === 'bool' ? (v ? 1 : 0) : undefined;
  const s = String(v).trim();
  switch (type) {
    case 'float64': return isNumberText(s) ? Number(s) : undefined;
    case 'bool': return s === 'true' ? 1 : s === 'false' ? 0 : undefined;
    case 'timestamp': {
      if (!ISO_DATE.test(s)) return undefined;
      // No offset: UTC, as DuckDB, Arrow and Parquet read naive timestamps (Date.parse would take local time).
      const ms = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : /(Z|[+-]\d{2}:?\d{2})$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
      return Number.isFinite(ms) ? ms : undefined;
    }
    default: return undefined;
  }
}
