/** The placement rule of a cluster session with workers of its own (pure logic: numbers in, decision out). */
import { describe, expect, it } from 'vitest';
import { placeCall, type PlacementInput } from '../src/cluster/placement.ts';

const base: PlacementInput = { tasks: 8, argBytes: 0, localWorkers: 2, remoteWorkers: 2, computeMs: 800, transferMs: 0, latencyMs: 1 };

describe('placeCall', () => {
  it('sends compute-heavy calls with small arguments to the cluster: more workers, little to move', () => {
    const p = placeCall(base);
    expect(p.where).toBe('cluster');
    expect(p.localMs).toBe(400);
    expect(p.clusterMs).toBe(201);
  });

  it('keeps a call here when moving its arguments costs more than the other workers save', () => {
    const p = placeCall({ ...base, argBytes: 512e6, computeMs: 40, transferMs: 900 });
    expect(p.where).toBe('local');
    expect(p.why).toMatch(/predicted 20\.0 ms here vs 911 ms over the cluster \(900 ms moving 512\.0 MB\)/);
  });

  it('keeps a tiny call here: a job\'s round trips cost more than the task', () => {
    expect(placeCall({ ...base, tasks: 1, computeMs: 0.05, latencyMs: 0.8 }).where).toBe('local');
  });

  it('counts only as many workers as there are tasks', () => {
    // 2 tasks: 2 local workers finish them as fast as 4 workers would, and without the transfer.
    expect(placeCall({ ...base, tasks: 2, computeMs: 100, transferMs: 5 }).where).toBe('local');
  });

  it('sends to the cluster when a side is unmeasured, and keeps here when no other node is live', () => {
    expect(placeCall({ ...base, computeMs: undefined }).where).toBe('cluster');
    expect(placeCall({ ...base, transferMs: undefined }).where).toBe('cluster');
    expect(placeCall({ ...base, remoteWorkers: 0 }).where).toBe('local');
    expect(placeCall({ ...base, localWorkers: 0 }).where).toBe('cluster');
  });
});
