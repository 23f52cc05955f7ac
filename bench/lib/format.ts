/** Number formatting for tables. */

/** 12345.6 → "12,346". */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

/** Milliseconds with about three significant digits: 0.0123, 1.23, 12.3, 1,234. */
export function ms(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a >= 1000) return int(n);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  if (a >= 0.1) return n.toFixed(3);
  return n.toPrecision(2);
}

/** A ratio: "3.14×". */
export function ratio(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(2)}×` : '—';
}

/** Milliseconds shown as seconds: "0.42 s", "12.3 s". */
export function seconds(msValue: number): string {
  if (!Number.isFinite(msValue)) return '—';
  const s = msValue / 1000;
  return `${s >= 10 ? s.toFixed(1) : s.toFixed(2)} s`;
}
