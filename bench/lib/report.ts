import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describeMachine, type MachineInfo } from './machine.ts';

/** A table of a report; cells are preformatted strings (raw numbers go in `Report.data`). */
export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Lines printed under the table. */
  readonly notes?: readonly string[];
}

/** A target from the spec, judged on this run. A miss is reported, not thrown. */
export interface Check {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean;
  /** False when the target's precondition does not hold on this machine: shown as N/A, not PASS/MISS. */
  readonly applies?: boolean;
}

export interface Report {
  /** File stem: results go to `bench/results/<bench>.md` and `.json`. */
  readonly bench: string;
  readonly title: string;
  readonly machine: MachineInfo;
  readonly startedAt: string;
  readonly durationMs: number;
  /** Parameters of the run (task counts, repetitions...). */
  readonly settings: Record<string, unknown>;
  readonly tables: readonly Table[];
  readonly checks: readonly Check[];
  /** Free-form lines under the checks. */
  readonly notes?: readonly string[];
  /** Raw per-repetition numbers, JSON only. */
  readonly data?: unknown;
}

/**
 * `bench/results/`, or `TANDEM_BENCH_RESULTS` when set: a run on another machine (the device
 * script) writes there, and `TANDEM_BENCH_TAG` suffixes the file stem (`kernels-h200.md`) so its
 * figures never overwrite this machine's.
 */
export const RESULTS_DIR = process.env.TANDEM_BENCH_RESULTS
  ? `${process.env.TANDEM_BENCH_RESULTS.replace(/\/$/, '')}/`
  : fileURLToPath(new URL('../results/', import.meta.url));
const TAG = process.env.TANDEM_BENCH_TAG ? `-${process.env.TANDEM_BENCH_TAG}` : '';

/** A markdown table whose columns are padded, so it also reads well in a terminal. */
export function markdownTable(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d,.]+(\s?(×|ms|s|%))?$|^—$/.test(r[i] ?? '')));
  const cell = (text: string, i: number) => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (cells: readonly string[]) => `| ${columns.map((_, i) => cell(cells[i] ?? '', i)).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(Math.max(w - 1, 1))}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(columns), rule, ...rows.map(line)].join('\n');
}

export function renderMarkdown(report: Report): string {
  const out: string[] = [`# ${report.title}`, ''];
  out.push(`Machine: ${describeMachine(report.machine)}  `);
  out.push(`Run: ${report.startedAt}, ${(report.durationMs / 1000).toFixed(0)} s  `);
  const settings = Object.entries(report.settings).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  out.push(`Settings: ${settings.join(', ')}`, '');
  for (const table of report.tables) {
    out.push(`## ${table.title}`, '', markdownTable(table.columns, table.rows), '');
    for (const note of table.notes ?? []) out.push(`- ${note}`);
    if (table.notes?.length) out.push('');
  }
  if (report.checks.length) {
    out.push('## Targets', '');
    out.push(markdownTable(['Result', 'Target', 'Wanted', 'Measured'],
      report.checks.map((c) => [c.applies === false ? 'N/A' : c.pass ? 'PASS' : 'MISS', c.name, c.target, c.measured])), '');
  }
  for (const note of report.notes ?? []) out.push(`- ${note}`);
  if (report.notes?.length) out.push('');
  return out.join('\n');
}

/** Writes `results/<bench>.md` and `.json`, prints the markdown, and returns the paths. */
export async function writeReport(report: Report): Promise<{ md: string; json: string }> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const md = `${RESULTS_DIR}${report.bench}${TAG}.md`;
  const json = `${RESULTS_DIR}${report.bench}${TAG}.json`;
  const text = renderMarkdown(report);
  await writeFile(md, text);
  await writeFile(json, `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  console.log(`\n${text}`);
  console.log(`wrote ${md}\nwrote ${json}`);
  return { md, json };
}
