/**
 * A task module that exists and would run, but lies outside what the test nodes allow (they are
 * started with `--allow packages/core/test/fixtures`): jobs naming it must be refused.
 */
import { writeFileSync } from 'node:fs';

/** Leaves a mark at `path` if it ever runs, so a test can tell "refused" from "ran, then failed". */
export function escape(path: string): string {
  writeFileSync(path, 'ran');
  return 'ran outside the allowlist';
}
