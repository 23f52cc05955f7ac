/**
 * Dropped shared memory is collected: V8 does not count SharedArrayBuffers toward its next
 * collection, so without sharedBuffer()'s own collections a loop of tensors would keep every one
 * (800 MiB of RSS for 200 dropped 4 MiB tensors). Measured in a process of its own, whose RSS is
 * the loop's alone; the bound is loose (about 70 MiB with the collections, 560–800 without), as it checks that memory is
 * returned at all, not how fast.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('./fixtures/drop-tensors.ts', import.meta.url));

describe('sharedBuffer', () => {
  it('returns the memory of dropped tensors: 800 MiB made and dropped 4 MiB at a time grow the process by under 250 MiB', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SCRIPT], { timeout: 60_000 });
    const growthMiB = Number(stdout.trim());
    expect(Number.isFinite(growthMiB), stdout).toBe(true);
    expect(growthMiB).toBeLessThan(250);
  });
});

describe('a worker given tensors', () => {
  it('lets go of them: 320 MiB filled in a worker and dropped leave under 64 MiB alive', async () => {
    // The worker allocates nothing itself, so V8 would never collect its heap, and its handles
    // would keep every tensor alive (320 MiB before received tensors were counted).
    const script = fileURLToPath(new URL('./fixtures/worker-reads.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { timeout: 60_000 });
    const aliveMiB = Number(stdout.trim());
    expect(Number.isFinite(aliveMiB), stdout).toBe(true);
    expect(aliveMiB).toBeLessThan(64);
  });
});
