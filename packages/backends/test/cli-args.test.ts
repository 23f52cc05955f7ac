/** Command lines of `tandem worker` and `tandem cluster status`: what they accept, and the one line they refuse with. */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseStatusArgs, parseWorkerArgs, redactUrl, redisAddress, UsageError } from '../src/cli-args.ts';

const CLI = fileURLToPath(new URL('../bin/tandem.mjs', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));

function refused(argv: string[], pattern: RegExp): void {
  let error: unknown;
  try {
    parseWorkerArgs(argv, here);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(UsageError);
  expect((error as Error).message).toMatch(pattern);
  expect((error as Error).message).not.toContain('\n');
}

describe('tandem worker arguments', () => {
  it('takes several --allow entries after one flag, repeated flags, directories made absolute and package names as they are', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-allow-'));
    try {
      const args = parseWorkerArgs(['--redis', 'redis://127.0.0.1:6380', '--allow', '.', '@acme/models', '--allow', dir, 'lodash', '--workers', '3', '--backends', 'cpu,webgpu', '--name', 'n1', '--concurrency=4'], here);
      expect(args).toEqual({
        redis: 'redis://127.0.0.1:6380', allow: [here.replace(/\/$/, ''), '@acme/models', dir, 'lodash'], workers: 3, backends: ['cpu', 'webgpu'], name: 'n1', concurrency: 4,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(parseWorkerArgs(['--redis=redis://h', '--allow', '.', '--backends', 'none'], here).backends).toEqual([]);
    expect(parseWorkerArgs(['--redis=redis://h', '--allow', '*'], here).allow).toEqual(['*']);
  });

  it('passes passwords and rediss:// through untouched, and never prints the password', () => {
    const url = 'rediss://user:s3cr%40t@redis.example.com:6390/2';
    expect(parseWorkerArgs(['--redis', url, '--allow', '.'], here).redis).toBe(url);
    expect(redisAddress(url)).toBe('redis.example.com:6390');
    expect(redisAddress('redis://:pw@10.0.0.1')).toBe('10.0.0.1:6379');
    expect(redactUrl(url)).toBe('rediss://user:***@redis.example.com:6390/2');
  });

  it('refuses bad command lines with one line each', () => {
    refused(['--redis', 'redis://h'], /--allow is required/);
    refused(['--redis', 'redis://h', '--allow'], /--allow needs at least one/);
    refused(['--allow', '.'], /--redis is required/);
    refused(['--redis', 'localhost:6379', '--allow', '.'], /redis:\/\/ or rediss:\/\//);
    refused(['--redis', 'not a url', '--allow', '.'], /not a URL/);
    refused(['--redis', 'redis://h/x', '--allow', '.'], /database number/);
    refused(['--redis', 'redis://h', '--allow', './no-such-dir'], /no such directory/);
    refused(['--redis', 'redis://h', '--allow', 'Not A Package!'], /neither a directory .* nor a package name/);
    refused(['--redis', 'redis://h', '--allow', '.', '--workers', '0'], /--workers wants a positive integer, got '0'/);
    refused(['--redis', 'redis://h', '--allow', '.', '--workers', '1.5'], /positive integer/);
    refused(['--redis', 'redis://h', '--allow', '.', '--concurrency', 'x'], /--concurrency wants a positive integer/);
    refused(['--redis', 'redis://h', '--allow', '.', '--backends', ','], /comma-separated/);
    refused(['--redis', 'redis://h', '--allow', '.', '--backends', 'none,cpu'], /can't be combined/);
    refused(['--redis', 'redis://h', '--allow', '.', '--name', ' '], /--name/);
    refused(['--redis', 'redis://h', '--allow', '.', '--nme', 'x'], /unknown option --nme/);
    refused(['--redis', 'redis://h', '--redis', 'redis://g', '--allow', '.'], /--redis given 2 times/);
    refused(['worker', '--redis', 'redis://h'], /unexpected argument 'worker'/);
  });
});

describe('tandem cluster status arguments', () => {
  it('takes --redis, --prefix and --json', () => {
    expect(parseStatusArgs(['--redis', 'redis://h:1', '--json', '--prefix', 'td'])).toEqual({ redis: 'redis://h:1', prefix: 'td', json: true });
    expect(() => parseStatusArgs([])).toThrow(UsageError);
    expect(() => parseStatusArgs(['--redis', 'redis://h', '--json=yes'])).toThrow(/takes no value/);
  });
});

describe('the tandem CLI', () => {
  it('exits 2 with one line on stderr for a worker without --allow', async () => {
    // Through tsx: under vitest the environment asks for Tandem's TypeScript sources (the tandem:source condition).
    const result = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, 'worker', '--redis', 'redis://127.0.0.1:1'], { timeout: 60_000 })
      .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('tandem worker: --allow is required: the directories or packages whose task modules this node may run');
  });

  it('a worker still connecting (nothing listens there) exits 0 on SIGTERM', async () => {
    // Port 1 on loopback: connection refused, and the Redis client retries for ever.
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'worker', '--redis', 'redis://127.0.0.1:1', '--allow', here, '--workers', '1', '--backends', 'none'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      while (!out.includes('connecting to 127.0.0.1:1')) {
        if (child.exitCode !== null) throw new Error(`exited early: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toMatch(/^SIGTERM before joining: exiting$/m);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
