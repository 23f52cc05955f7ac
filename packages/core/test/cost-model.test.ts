import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COST_CACHE_VERSION, costCachePath, loadCostModel, saveCostModel } from '../src/planner/cost-cache.ts';
import { CostModel } from '../src/planner/cost-model.ts';
import { fitPower, predictPower } from '../src/planner/power-fit.ts';

describe('fitPower', () => {
  it('recovers a·n^b + c from exact samples and extrapolates', () => {
    const truth = { a: 2e-6, b: 1.5, c: 0.3 };
    const samples = [1e3, 4e3, 1.6e4, 6.4e4, 2.56e5].map((n) => ({ n, t: predictPower(truth, n) }));
    const fit = fitPower(samples)!;
    expect(fit.b).toBeCloseTo(1.5, 2);
    expect(predictPower(fit, 1e6) / predictPower(truth, 1e6)).toBeCloseTo(1, 2);
  });

  it('fits noisy matmul times (in output elements: e^1.5) well enough to extrapolate', () => {
    let seed = 7;
    const noise = () => 1 + 0.1 * (((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5);
    const time = (e: number) => (2 * e ** 1.5) / 1e7;
    const samples = [64, 128, 256, 512].map((d) => ({ n: d * d, t: time(d * d) * noise() + 0.05 }));
    const fit = fitPower(samples)!;
    expect(fit.b).toBeGreaterThan(1.3);
    expect(fit.b).toBeLessThan(1.7);
    expect(predictPower(fit, 1024 * 1024) / time(1024 * 1024)).toBeGreaterThan(0.7);
    expect(predictPower(fit, 1024 * 1024) / time(1024 * 1024)).toBeLessThan(1.4);
  });

  it('ignores a first-run outlier per size and never fits an exponent above 2', () => {
    const samples = [1e4, 1e5, 1e6].flatMap((n) => [{ n, t: 500 }, { n, t: n / 1e4 }, { n, t: n / 1e4 }]);
    const fit = fitPower(samples)!;
    expect(predictPower(fit, 1e7)).toBeCloseTo(1000, -1);
    const steep = fitPower([{ n: 1, t: 1 }, { n: 10, t: 1e4 }, { n: 100, t: 1e8 }])!;
    expect(steep.b).toBeLessThanOrEqual(2);
  });

  it('falls back sensibly with one or two sizes, and pins the exponent when asked', () => {
    expect(fitPower([])).toBeUndefined();
    expect(fitPower([{ n: 100, t: 5 }])).toEqual({ a: 0.05, b: 1, c: 0 });
    const transfer = fitPower([{ n: 1e6, t: 1.1 }, { n: 2e6, t: 2.1 }, { n: 4e6, t: 4.1 }], 1)!;
    expect(transfer.b).toBe(1);
    expect(transfer.c).toBeCloseTo(0.1, 6);
    expect(transfer.a).toBeCloseTo(1e-6, 9);
  });
});

describe('CostModel', () => {
  it('predicts only what it has measured, per kernel and device', () => {
    const m = new CostModel();
    expect(m.predictKernel('matmul', 'cpu', 100)).toBeUndefined();
    m.recordKernel('matmul', 'cpu', 1e4, 500); // the first run compiles: left out
    expect(m.predictKernel('matmul', 'cpu', 100)).toBeUndefined();
    for (const n of [1e4, 1e5, 1e6]) m.recordKernel('matmul', 'cpu', n, n / 1e4);
    expect(m.predictKernel('matmul', 'cpu', 2e6)).toBeCloseTo(200, 0);
    expect(m.predictKernel('matmul', 'webgpu:0', 2e6)).toBeUndefined();
    expect(m.samples('matmul', 'cpu')).toBe(3);
    m.recordTransfer('webgpu:0', 1e6, 1.5);
    m.recordTransfer('webgpu:0', 4e6, 4.5);
    expect(m.predictTransfer('webgpu:0', 2e6)).toBeCloseTo(2.5, 6);
    expect(m.predictTransfer('webgpu:0', 0)).toBe(0);
  });

  it('round-trips through its cache file, keyed by host and devices', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-cache-'));
    const path = costCachePath(['llvmpipe (software)'], dir);
    expect(path).not.toBe(costCachePath(['NVIDIA H100'], dir));
    const m = new CostModel();
    m.recordKernel('sum', 'cpu', 1e6, 50);
    m.recordKernel('sum', 'cpu', 1e6, 2);
    m.recordKernel('sum', 'cpu', 2e6, 4);
    saveCostModel(path, m);
    const loaded = loadCostModel(path, () => expect.fail('no warning expected'));
    expect(loaded.predictKernel('sum', 'cpu', 3e6)).toBeCloseTo(6, 6);
    expect(JSON.parse(readFileSync(path, 'utf8')).version).toBe(COST_CACHE_VERSION);
  });

  it('ignores a corrupt or stale cache with a warning, never a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-cache-'));
    const warnings: string[] = [];
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, '{"version": 1, "model": {"kernels": {"x@cpu": [{"n": "big"}]}, "transfers": {}}}');
    expect(loadCostModel(corrupt, (w) => warnings.push(w)).describe()).toEqual([]);
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '\u0000not json');
    loadCostModel(garbage, (w) => warnings.push(w));
    const stale = join(dir, 'stale.json');
    writeFileSync(stale, JSON.stringify({ version: 0, model: { kernels: {}, transfers: {} } }));
    loadCostModel(stale, (w) => warnings.push(w));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/ignoring 1 implausible entry of cost cache .*corrupt\.json \(x@cpu\).*recalibrated/);
    expect(warnings[1]).toMatch(/ignoring corrupt cost cache .*garbage\.json.*recalibrated/);
    expect(warnings[2]).toMatch(/version 0, expected 1/);
    expect(loadCostModel(join(dir, 'missing.json'), () => expect.fail('missing is not corrupt')).describe()).toEqual([]);
  });
});
