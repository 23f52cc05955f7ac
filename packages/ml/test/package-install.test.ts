/**
 * The packages as a user gets them: built, packed with `npm pack`, installed from the tarballs
 * into a new project outside the repository, and used from plain Node (no tsx, no source
 * condition) and from a `tsc` project.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const consumer = fileURLToPath(new URL('./fixtures/consumer/', import.meta.url));
const PACKAGES = ['@tandem/core', '@tandem/backends', '@tandem/ml'];

/** The environment of a user's shell: none of the test run's source condition. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _dropped, ...env } = process.env;
  return { ...env, ...extra };
}

describe('the packed packages, installed into a new project', () => {
  let project: string;

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'tandem-consumer-'));
    const tarballs = join(project, 'tarballs');
    mkdirSync(tarballs);
    await exec('npm', ['run', 'build'], { cwd: repo, env: userEnv({ TURBO_TELEMETRY_DISABLED: '1' }) });
    await exec('npm', ['pack', ...PACKAGES.flatMap((p) => ['--workspace', p]), '--pack-destination', tarballs], { cwd: repo });
    const app = join(project, 'app');
    cpSync(consumer, app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const files = readdirSync(tarballs).map((f) => join(tarballs, f));
    // The registry cache that `npm ci` filled serves every dependency; nothing new is downloaded.
    await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...files, '@types/node@20'], { cwd: app, env: userEnv({}) });
  }, 300_000);
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('runs a task, an op on the default backends and an epoch of training from plain Node, without tsx', async () => {
    const app = join(project, 'app');
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
    const { stdout } = await exec(process.execPath, ['app.mjs'], {
      cwd: app, timeout: 180_000, env: userEnv({ TANDEM_CACHE_DIR: join(project, 'cache') }),
    });
    const got = JSON.parse(stdout.trim().split('\n').at(-1)!) as { task: number; op: number; devices: string[]; testAccuracy: number; replicas: number };
    expect(got.task).toBe(5);
    expect(got.op).toBe(30);
    expect(got.devices).toContain('cpu');
    expect(got.replicas).toBe(2);
    expect(got.testAccuracy).toBeGreaterThan(0.5);
  }, 240_000);

  it('type-checks a TypeScript project against the declarations', async () => {
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await exec(process.execPath, [tsc, '-p', '.'], { cwd: join(project, 'app') }).then(() => 'ok', (e: { stdout?: string }) => e.stdout ?? String(e));
    expect(result).toBe('ok');
  }, 120_000);
});
