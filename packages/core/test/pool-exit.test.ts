import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { workerKinds } from './helpers.ts';

const script = new URL('./fixtures/scripts/close-after-idle.ts', import.meta.url).pathname;
const run = promisify(execFile);

/** Cursor files of one script's process (named after its pid). */
function cursorFiles(pid: number | undefined): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith(`tandem-cursor-${pid}-`));
}

describe('a script ends its session once its workers are idle', () => {
  for (const kind of workerKinds) {
    for (const how of ['close', 'destroy', 'using', 'none']) {
      it(`${kind} workers, ${how}: every line runs, exit code 0, no cursor file left`, async () => {
        const child = run(process.execPath, ['--import', 'tsx', script, kind, how], { timeout: 30_000 });
        const { stdout } = await child;
        expect(stdout.trim().split('\n')).toEqual(['result 3', `after ${how}`]);
        expect(child.child.exitCode).toBe(0);
        expect(cursorFiles(child.child.pid)).toEqual([]);
      });
    }
  }
});
