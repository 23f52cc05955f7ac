/**
 * Kernels for the cluster example, one heavy and one light: trigonometry per element, 200 rounds
 * or 1. Each names its module and is exported, so a cluster's nodes can load it (they allow this
 * folder). Two kernels rather than one with a rounds argument: the planner learns a kernel's cost
 * per element, and an argument that changes it 200-fold would have it relearn at every switch.
 */
import { kernel } from '@tandem/core';

export const heavySpin = kernel('heavySpin', function (x: number[]) {
  let v = x[this.thread.x]!;
  for (let i = 0; i < 200; i++) v = Math.sin(v) * 0.5 + Math.cos(v * 0.25);
  return v;
}, { module: import.meta.url });

export const lightSpin = kernel('lightSpin', function (x: number[]) {
  const v = x[this.thread.x]!;
  return Math.sin(v) * 0.5 + Math.cos(v * 0.25);
}, { module: import.meta.url });
