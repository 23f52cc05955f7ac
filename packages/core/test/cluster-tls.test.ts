/**
 * A cluster over TLS: Redis listening on `rediss://` only (a certificate for 127.0.0.1 signed by a
 * throwaway CA made with openssl), a real `tandem worker` that trusts the CA through
 * NODE_EXTRA_CA_CERTS, and a client that trusts it through its connection options.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tandem } from '../src/index.ts';
import { CLUSTER_TASKS, spawnNode, useCluster } from './helpers/cluster-nodes.ts';
import { redisOrSkip } from './helpers/redis-server.ts';

/** A CA and a server certificate for IP 127.0.0.1 signed by it, in `dir`. */
function makeCertificates(dir: string): void {
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.error?.message ?? r.stderr}`);
  };
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tandem test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.cnf']);
}

describe.skipIf(!redisOrSkip())('cluster over TLS (rediss://)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-tls-'));
  const certs = { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
  let td: Tandem | undefined;
  const cluster = useCluster({
    names: ['secure-node'],
    nodes: { env: { NODE_EXTRA_CA_CERTS: certs.ca } },
    // Made in the cluster's beforeAll, before Redis starts (not at collection: a skipped suite needs no openssl).
    redis: () => (makeCertificates(dir), { tls: certs, password: 'tls-secret' }),
    client: false,
  });

  afterAll(async () => {
    await td?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs tasks through a TLS-only Redis, with AUTH from the URL', async () => {
    expect(cluster.redis.url).toMatch(/^rediss:\/\/:tls-secret@127\.0\.0\.1:\d+$/);
    td = await Tandem.create({ cluster: { redis: cluster.redis.url, connection: { tls: { ca: readFileSync(certs.ca) } } }, workers: 0 });
    const results = await td.runMany<number>(CLUSTER_TASKS, 'square', Array.from({ length: 50 }, (_, i) => [i]));
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i * i));
    // The node said nothing about TLS (no SNI-on-an-IP warning, no certificate complaint).
    expect(cluster.nodes[0]!.output()).not.toMatch(/warn|certificate|servername|deprecat/i);
    expect(cluster.nodes[0]!.output()).toMatch(/joined 127\.0\.0\.1:\d+ as secure-node/);
  }, 60_000);

  it('a client that does not trust the certificate fails with one clear error, not a wait for ever', async () => {
    const started = Date.now();
    const error = await Tandem.create({ cluster: { redis: cluster.redis.url }, workers: 0 }).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/cannot reach the cluster's Redis at 127\.0\.0\.1:\d+: .*(certificate|self.signed)/i);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 60_000);

  it('a wrong password fails with one clear error', async () => {
    const url = cluster.redis.url.replace('tls-secret', 'wrong');
    const error = await Tandem.create({ cluster: { redis: url, connection: { tls: { ca: readFileSync(certs.ca) } } }, workers: 0 }).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/cannot reach the cluster's Redis at 127\.0\.0\.1:\d+: .*(WRONGPASS|invalid username-password)/i);
  }, 60_000);

  it('`tandem worker` with a wrong password exits 1 saying why, rather than retrying for ever', async () => {
    const node = spawnNode({ redis: cluster.redis.url.replace('tls-secret', 'wrong'), name: 'locked-out', env: { NODE_EXTRA_CA_CERTS: certs.ca } });
    const code = await Promise.race([node.exited, new Promise<string>((r) => setTimeout(() => r('still running after 30 s'), 30_000))]);
    if (code === 'still running after 30 s') node.kill('SIGKILL');
    expect(code).toBe(1);
    expect(node.output()).toMatch(/WRONGPASS|invalid username-password/);
  }, 60_000);
});
