/**
 * A compute-heavy user kernel for the cluster bench: `rounds` steps of trigonometry per element.
 * It names its module, so a cluster's nodes can load it (their `--allow` list holds this folder).
 */
import { kernel } from '@tandem/core';

export const spinKernel = kernel('spinKernel', function (x: number[], rounds: number) {
  let v = x[this.thread.x]!;
  for (let i = 0; i < rounds; i++) v = Math.sin(v) * 0.5 + Math.cos(v * 0.25);
  return v;
}, { module: import.meta.url });
