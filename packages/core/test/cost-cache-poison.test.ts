import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COST_CACHE_VERSION, loadCostModel } from '../src/planner/cost-cache.ts';
import { Tandem, Tensor } from '../src/index.ts';
import { isPlausibleSample } from '../src/planner/cost-model.ts';
// The session below opens the cpu backend, which @tandem/backends registers.
import '@tandem/backends';

const absurd = { n: 1e308, t: 1e308 };

function cacheFile(kernels: Record<string, unknown>, transfers: Record<string, unknown> = {}): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tandem-poison-')), 'costs.json');
  writeFileSync(path, JSON.stringify({ version: COST_CACHE_VERSION, model: { kernels, transfers } }));
  return path;
}

describe('a cost cache that parses but holds implausible numbers', () => {
  it('keeps the plausible entries and drops the rest with one warning naming them', () => {
    const path = cacheFile(
      { 'add@cpu': [{ n: 1000, t: 0.5 }, { n: 2000, t: 1 }], 'sum@cpu': [absurd], 'max@cpu': [{ n: -1, t: 1 }], 'min@cpu': [{ n: 10, t: 1e9 }], 'mean@cpu': [] },
      { cpu: [{ n: 1e6, t: Number.MAX_VALUE }] },
    );
    const warnings: string[] = [];
    const model = loadCostModel(path, (w) => warnings.push(w));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ignoring 5 implausible entries of cost cache .*\(sum@cpu, max@cpu, min@cpu, mean@cpu, cpu\)/);
    expect(model.describe().map((r) => r.key)).toEqual(['add@cpu']);
    expect(model.predictKernel('add', 'cpu', 4000)).toBeCloseTo(2, 3);
  });

  it('accepts only finite sizes in (0, 2^53) and times in [0, a day]', () => {
    for (const bad of [absurd, { n: 0, t: 1 }, { n: 1, t: -1 }, { n: Number.NaN, t: 1 }, { n: 1, t: Infinity }, { n: 2 ** 54, t: 1 }, { n: 1, t: 9e7 }, { n: '1', t: 1 }, null]) {
      expect(isPlausibleSample(bad), JSON.stringify(bad)).toBe(false);
    }
    for (const good of [{ n: 1, t: 0 }, { n: Number.MAX_SAFE_INTEGER, t: 86_400_000 }, { n: 1e6, t: 1e-6 }]) expect(isPlausibleSample(good)).toBe(true);
  });

  it('does not crash a session: its ops give the right answer and the file is rewritten clean', async () => {
    const path = cacheFile({ 'add@cpu': [absurd, absurd], 'sum@cpu': [absurd] }, { cpu: [absurd] });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      // vitest fails the run on an unhandled rejection, which is what the poisoned cache used to cause.
      const td = await Tandem.create({ backends: ['cpu'], workers: 2, costCache: path });
      const n = 100_000;
      const a = Tensor.from(Array.from({ length: n }, (_, i) => i % 7), [n]);
      const total = td.ops.sum(td.ops.add(a, a));
      let expected = 0;
      for (let i = 0; i < n; i++) expected += 2 * (i % 7);
      expect((await total.values())[0]).toBe(expected);
      await td.close();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.some((w) => /implausible entries of cost cache/.test(w))).toBe(true);
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { model: { kernels: Record<string, unknown[]>; transfers: Record<string, unknown[]> } };
    for (const samples of [...Object.values(saved.model.kernels), ...Object.values(saved.model.transfers)]) {
      for (const s of samples) expect(isPlausibleSample(s)).toBe(true);
    }
  });
});
