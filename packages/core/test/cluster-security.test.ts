/**
 * What a node runs and how it is operated: it runs only task modules under its `--allow` list
 * (anything else is refused with a clear error and never imported), it authenticates to Redis
 * with the password in its URL, and `tandem cluster status` / SIGTERM behave as documented.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, TaskModuleError, type Tandem } from '../src/index.ts';
import { CLI, CLUSTER_TASKS, FIXTURES_DIR, OUTSIDE_ALLOWLIST, clusterClient, killAllNodes, startNodeProcess, until, type NodeProcess } from './helpers/cluster-nodes.ts';
import { redisOrSkip, startRedis, type RedisServer } from './helpers/redis-server.ts';

/** `tandem cluster status` as a user runs it. */
async function status(url: string, ...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, 'cluster', 'status', '--redis', url, ...extra], { timeout: 20_000 })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (e: { code: number; stdout: string; stderr: string }) => e);
}

describe.skipIf(!redisOrSkip())('cluster: allowlist, AUTH and operations', () => {
  let redis: RedisServer | undefined;
  let node: NodeProcess | undefined;
  let td: Tandem | undefined;
  const markers = mkdtempSync(join(tmpdir(), 'tandem-allow-'));

  beforeAll(async () => {
    // With a password: the node and the client must AUTH with the one in the URL.
    redis = await startRedis({ password: 'cluster-test-pw' });
    node = await startNodeProcess({ redis: redis.url, name: 'guarded' });
    td = await clusterClient(redis.url);
  });

  afterAll(async () => {
    await td?.close().catch((e: unknown) => console.warn(`client close: ${(e as Error).message}`));
    await killAllNodes();
    await redis?.stop();
    rmSync(markers, { recursive: true, force: true });
  });

  it('prints its devices and the joined line, without the password', () => {
    const out = node!.output();
    expect(out).toMatch(/^device \S+/m);
    expect(out).toMatch(new RegExp(`^joined 127\\.0\\.0\\.1:${redis!.port} as guarded$`, 'm'));
    expect(out).not.toContain('cluster-test-pw');
  });

  it('refuses a module outside its allowlist with a clear error, and never imports it', async () => {
    const mark = join(markers, 'outside');
    const error = await td!.run(OUTSIDE_ALLOWLIST, 'escape', [mark]).then(() => undefined, (e: unknown) => e);
    expect(error, 'the task must be refused').toBeDefined();
    expect(error instanceof ArgumentError || error instanceof TaskModuleError, `${String(error)} is an ArgumentError or TaskModuleError`).toBe(true);
    expect((error as Error).message).toMatch(/allow/i);
    expect((error as Error).message).toContain('outside-allowlist.ts');
    expect(existsSync(mark), 'the refused module ran').toBe(false);
  });

  it('refuses a path that climbs out of an allowed directory', async () => {
    const mark = join(markers, 'climb');
    const climbing = `${FIXTURES_DIR}../helpers/outside-allowlist.ts`;
    const error = await td!.run(climbing, 'escape', [mark]).then(() => undefined, (e: unknown) => e);
    expect(error instanceof ArgumentError || error instanceof TaskModuleError, String(error)).toBe(true);
    expect(existsSync(mark)).toBe(false);
  });

  it('names a missing export of an allowed module, and keeps serving after refusals', async () => {
    const error = await td!.run(CLUSTER_TASKS, 'noSuchExport', []).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('noSuchExport');
    expect(await td!.run(CLUSTER_TASKS, 'square', [9])).toBe(81);
    expect(node!.process.exitCode).toBeNull();
  });

  it('`tandem cluster status` lists the node and the queue, AUTH from the URL', async () => {
    await td!.runMany(CLUSTER_TASKS, 'square', [[1], [2], [3]]);
    const r = await status(redis!.url);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 node\b/);
    expect(r.stdout).toMatch(/^\s+guarded\s+\S+\s+\d+\s+/m);
    // Its session's task count, run time and busy share, from its heartbeat.
    expect(r.stdout).toMatch(/TASKS\s+RUN P50\s+BUSY/);
    expect(r.stdout).toMatch(/^\s+guarded\s.*\s\d+\s+\d+\.\d ms\s+\d+%\s/m);
    expect(r.stdout).toMatch(/^queue: \d+ waiting, \d+ active, \d+ delayed, \d+ failed, \d+ completed$/m);
    // Counts come from the node's heartbeat, written every NODE_TTL_SECONDS / 3 = 5 s: poll past one beat.
    // They count jobs, not tasks (runMany sends several tasks per job), so only "some" is checked.
    let me: { name: string; pid: number; completed: number } | undefined;
    await until(async () => {
      const json = JSON.parse((await status(redis!.url, '--json')).stdout) as { nodes: { name: string; pid: number; completed: number }[] };
      me = json.nodes.find((n) => n.name === 'guarded');
      return (me?.completed ?? 0) > 0;
    }, 15_000, 'the node\'s heartbeat to count completed jobs');
    expect(me?.pid).toBe(node!.pid);
  });

  it('`tandem cluster status` without the password: exit 1 and one line saying why', async () => {
    // Without the password the server refuses, and the command says so in one line (exit 1).
    const denied = await status(`redis://127.0.0.1:${redis!.port}`);
    expect(denied.code).toBe(1);
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);
    expect(denied.stderr).toMatch(/NOAUTH|auth/i);
  });

  it('`tandem cluster dashboard`: bull-board over the task queue, read-only, the live nodes at /nodes, and SIGTERM stops it', async () => {
    expect(await td!.runMany(CLUSTER_TASKS, 'square', [[4], [5]])).toEqual([16, 25]);
    const board = spawn(process.execPath, ['--import', 'tsx', CLI, 'cluster', 'dashboard', '--redis', redis!.url, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    board.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    board.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => board.once('exit', (code) => resolve(code)));
    try {
      await until(() => /at http:\/\/127\.0\.0\.1:\d+\//.test(out), 30_000, `the dashboard's URL (printed so far: ${out})`);
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1]!;
      expect(out).toMatch(/read-only/);
      const queues = (await (await fetch(`${url}api/queues`)).json()) as { queues: { name: string; readOnlyMode: boolean; counts: Record<string, number> }[] };
      const tasks = queues.queues.find((q) => q.name === 'tasks');
      expect(tasks, JSON.stringify(queues).slice(0, 300)).toBeDefined();
      expect(tasks!.readOnlyMode).toBe(true);
      expect(tasks!.counts.completed).toBeGreaterThan(0);
      // Read-only: bull-board refuses job actions.
      const retry = await fetch(`${url}api/queues/tasks/retry/failed`, { method: 'PUT' });
      expect(retry.status).toBe(405);
      const nodes = (await (await fetch(`${url}nodes`)).json()) as { nodes: { name: string; pid: number }[] };
      expect(nodes.nodes.map((n) => n.name)).toContain('guarded');
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/Tandem cluster/);
    } finally {
      board.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toMatch(/SIGTERM: dashboard stopped/);
  });

  it('SIGTERM: the node leaves gracefully and exits 0', async () => {
    const code = await node!.stop();
    expect(node!.output()).toMatch(/SIGTERM: leaving the cluster/);
    expect(node!.output()).toMatch(/^left the cluster$/m);
    expect(code).toBe(0);
  });
});
