/** How `explain()` writes a time: whole ms from 100 up, else two decimals; `—` when unknown. */
export const ms = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(2)} ms`);
