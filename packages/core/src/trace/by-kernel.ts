/** Spans summed per kernel and device: explain()'s "by kernel and device" lines, for a graph or a whole pipeline run. */
import { ms } from './format.ts';
import type { Span } from './types.ts';

/** A span's kernel, with its purpose (e.g. exploration, calibration) when it has one. */
export function groupOf(span: Span): string {
  return typeof span.args.purpose === 'string' ? `${span.kernel} (${span.args.purpose})` : span.kernel;
}

/** One line per kernel and device: pieces, elements and time, indented by `indent`, the key padded to `width`. */
export function kernelLines(spans: readonly Span[], indent: string, width: number): string[] {
  const byKernel = new Map<string, { pieces: number; elements: number; time: number }>();
  for (const s of spans) {
    const key = `${groupOf(s)} on ${s.track}`;
    const e = byKernel.get(key) ?? { pieces: 0, elements: 0, time: 0 };
    e.pieces++;
    e.elements += typeof s.args.elements === 'number' ? s.args.elements : 0;
    e.time += s.duration;
    byKernel.set(key, e);
  }
  return [...byKernel].map(([k, e]) => `${indent}${k.padEnd(width)} ${String(e.pieces).padStart(5)} pieces ${String(e.elements).padStart(12)} elements ${ms(e.time).padStart(10)}`);
}
