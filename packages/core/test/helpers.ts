import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerKind } from '../src/index.ts';

export const tasks = new URL('./fixtures/tasks.ts', import.meta.url);
export const crashes = new URL('./fixtures/crash.ts', import.meta.url);

/** Both kinds of worker must give the same guarantees, so fault tests run on each. */
export const workerKinds: WorkerKind[] = ['thread', 'process'];

let counter = 0;
/** A fresh path for a crash-once marker file. */
export function marker(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-test-'));
  return join(dir, `marker-${counter++}`);
}

/**
 * Resolves once `n` tasks are running: tests that act on running work wait for it to start
 * rather than sleeping a fixed time a loaded machine may not honour. No limit of its own: a
 * task that never starts fails the test at its timeout.
 */
export async function untilRunning(td: { stats(): { tasks: { running: number } } }, n = 1): Promise<void> {
  while (td.stats().tasks.running < n) await new Promise((r) => setTimeout(r, 1));
}
