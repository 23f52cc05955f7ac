/**
 * The planner bench runs auto from a cold cost cache several times — one session, one fresh cache
 * each — because one cold start can lock in a bad placement that another would not: the median of
 * a single session hides that. This folds those sessions into one verdict (the worst session) and
 * a table that keeps calibration (the first, cold run) apart from run-to-run noise (the spread of
 * the measured reps, the oracle's included).
 */
import { POLICIES, type Policy } from '@tandem/core';
import { ratio, seconds } from './format.ts';
import type { Table } from './report.ts';
import { median, summarize, type Summary } from './stats.ts';

/** Every policy once, auto `cold` times (`auto#1`…), each a peer with its own session and cache. */
export function policyPeers(cold: number): Array<{ id: string; policy: Policy }> {
  return POLICIES.flatMap((p): Array<{ id: string; policy: Policy }> => (p === 'auto' ? Array.from({ length: cold }, (_, i) => ({ id: `auto#${i + 1}`, policy: p })) : [{ id: p as string, policy: p }]));
}

/** What the cold auto sessions did, with `auto` (in `results`) set to the worst session's runs. */
export interface ColdAuto {
  /** The session whose median was slowest: the targets are judged on it. */
  readonly worstId: string;
  /** Median over the sessions of each one's median (ms). */
  readonly medianOfMedians: number;
  /** Slowest single measured run of any auto session (ms). */
  readonly worstRun: number;
  readonly table: Table;
  readonly data: Record<string, { firstMs: number; warmupMs: number[]; summary: Summary }>;
}

/**
 * Folds the `auto#i` results into `results.set('auto', worst session's runs)` and describes them
 * against the oracle's summary. `warmups` holds each peer's warm-up times in order: the first of
 * an auto session is its cold run (calibration on slices of the op, then the op).
 */
export function foldColdAuto<R extends { ms: number }>(results: Map<string, R[]>, warmups: ReadonlyMap<string, readonly number[]>, oracle: Summary, title: string): ColdAuto {
  const ids = [...results.keys()].filter((id) => id.startsWith('auto#'));
  const data: ColdAuto['data'] = {};
  for (const id of ids) {
    const w = warmups.get(id) ?? [];
    data[id] = { firstMs: w[0] ?? Number.NaN, warmupMs: [...w], summary: summarize(results.get(id)!.map((r) => r.ms)) };
  }
  const worstId = ids.reduce((a, b) => (data[b]!.summary.median > data[a]!.summary.median ? b : a));
  results.set('auto', results.get(worstId)!);
  const medianOfMedians = median(ids.map((id) => data[id]!.summary.median));
  const worstRun = Math.max(...ids.map((id) => data[id]!.summary.max));
  const rows = ids.map((id) => {
    const d = data[id]!;
    return [id === worstId ? `${id} (worst)` : id, seconds(d.firstMs), d.warmupMs.slice(1).map(seconds).join(', ') || '—', seconds(d.summary.median), seconds(d.summary.max),
      ratio(d.summary.max / d.summary.median), ratio(d.summary.median / oracle.median), ratio(d.summary.max / oracle.median)];
  });
  rows.push(['oracle (noise floor)', '—', '—', seconds(oracle.median), seconds(oracle.max), ratio(oracle.max / oracle.median), ratio(1), ratio(oracle.max / oracle.median)]);
  return {
    worstId,
    medianOfMedians,
    worstRun,
    data,
    table: {
      title,
      columns: ['Session', 'cold run (calibration + run)', 'later warm-ups', 'median', 'worst run', 'worst ÷ median (noise)', '× oracle (median)', '× oracle (worst run)'],
      rows,
      notes: [
        `${ids.length} auto sessions, each from a fresh (empty) cost cache. Calibration cost: the cold run, the first warm-up, which calibrates the op's kernels on slices on each device before placing it; it is not in the measured reps. Run-to-run noise: worst ÷ median within a session, shown for the oracle too.`,
        `Targets are judged on the worst session (${worstId}, by median); across sessions the median of medians is ${seconds(medianOfMedians)} (${ratio(medianOfMedians / oracle.median)} the oracle), the worst single run ${seconds(worstRun)} (${ratio(worstRun / oracle.median)}).`,
      ],
    },
  };
}
