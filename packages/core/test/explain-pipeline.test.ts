/** explain()'s data part lists the kernels of every batch of the last pipeline run, not only the last batch's graph. */
import { describe, expect, it } from 'vitest';
import { explainPipeline } from '../src/trace/explain-pipeline.ts';
import type { Span } from '../src/trace/types.ts';

const run = {
  source: 'flights.parquet', wallMs: 120, peakQueuedBytes: 0, maxQueuedBytes: 1 << 20, largestBatchBytes: 0, pipes: 1,
  stages: [{ stage: 'read flights.parquet', rowsIn: 300, rowsOut: 300, batches: 3, busyMs: 10 }],
};
const span = (graph: number, track: string, elements: number, purpose?: string): Span => ({
  graph, track, kernel: 'user:km', name: 'user:km', start: graph * 10, duration: 5, args: { elements, ...(purpose ? { purpose } : {}) },
});

describe('explainPipeline', () => {
  it('sums the kernel spans of every batch per kernel and device', () => {
    const text = explainPipeline(run, [span(0, 'gpujs:0', 100), span(1, 'gpujs:0', 100), span(1, 'cpu', 20, 'exploration'), span(2, 'cpu', 100)]);
    expect(text).toMatch(/user:km on gpujs:0 +2 pieces +200 elements/);
    expect(text).toMatch(/user:km on cpu +1 pieces +100 elements/);
    expect(text).toMatch(/user:km \(exploration\) on cpu +1 pieces +20 elements/);
  });

  it('says nothing of kernels when the run had none', () => {
    expect(explainPipeline(run)).not.toContain('Kernels of this run');
  });
});
