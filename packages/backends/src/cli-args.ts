/**
 * Argument parsing of the cluster commands of `npx tandem` (`worker`, `cluster status`), apart
 * from the commands themselves so that it is tested without starting anything. A bad argument is
 * a {@link UsageError}: the CLI prints its one line and exits with code 2.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** A command line the CLI refuses: one line for the user, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface WorkerArgs {
  /** The Redis URL as given (password and `rediss://` included): the library connects with it. */
  readonly redis: string;
  /** Absolute directories and package names whose task modules this node may run. */
  readonly allow: string[];
  readonly workers?: number;
  /** Backend names; `[]` for `--backends none` (workers only). Absent: every backend that opens here. */
  readonly backends?: string[];
  readonly name?: string;
  readonly concurrency?: number;
  readonly prefix?: string;
}

export interface StatusArgs {
  readonly redis: string;
  readonly prefix?: string;
  readonly json: boolean;
}

/** An npm package name, scoped or not (what a node may be allowed besides directories). */
const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/**
 * Splits `--flag value`, `--flag=value` and boolean flags. `--allow` takes every following
 * argument up to the next `--flag` (`--allow ./tasks @acme/models`), and may repeat.
 */
function tokenize(argv: readonly string[], valued: readonly string[], booleans: readonly string[], command: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (flag: string, value: string) => out.set(flag, [...(out.get(flag) ?? []), value]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`${command}: unexpected argument '${arg}' (options start with --; see --help)`);
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    if (booleans.includes(flag)) {
      if (eq >= 0) throw new UsageError(`${command}: --${flag} takes no value`);
      add(flag, 'true');
      continue;
    }
    if (!valued.includes(flag)) throw new UsageError(`${command}: unknown option --${flag} (see --help)`);
    if (eq >= 0) {
      add(flag, arg.slice(eq + 1));
      continue;
    }
    if (flag === 'allow') {
      let taken = 0;
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
        add(flag, argv[++i]!);
        taken++;
      }
      if (taken === 0) throw new UsageError(`${command}: --allow needs at least one directory or package name`);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${command}: --${flag} needs a value`);
    add(flag, value);
    i++;
  }
  return out;
}

function single(flags: Map<string, string[]>, flag: string, command: string): string | undefined {
  const values = flags.get(flag);
  if (!values) return undefined;
  if (values.length > 1) throw new UsageError(`${command}: --${flag} given ${values.length} times`);
  return values[0];
}

function positiveInt(raw: string | undefined, flag: string, command: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${command}: --${flag} wants a positive integer, got '${raw}'`);
  return n;
}

/**
 * Checks a Redis URL's shape (the library connects; this only catches typos early). `redis://`
 * and `rediss://` (TLS), with or without `user:password@`, a port and a `/db` number.
 */
export function checkRedisUrl(raw: string | undefined, command: string): string {
  if (raw === undefined || raw === '') throw new UsageError(`${command}: --redis is required, e.g. --redis redis://127.0.0.1:6379`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${command}: --redis is not a URL: '${raw}' (e.g. redis://127.0.0.1:6379)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError(`${command}: --redis must be a redis:// or rediss:// URL, got ${url.protocol}//…`);
  if (!url.hostname) throw new UsageError(`${command}: --redis has no host: '${redactUrl(raw)}'`);
  if (url.pathname && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) throw new UsageError(`${command}: --redis path must be a database number (/0 … /15), got '${url.pathname}'`);
  return raw;
}

/** `host:port` of a Redis URL, never its password: what the CLI prints. */
export function redisAddress(raw: string): string {
  const url = new URL(raw);
  return `${url.hostname}:${url.port || '6379'}`;
}

/** The URL with its password replaced by `***`, for messages. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.href;
  } catch {
    return raw.replace(/:[^:@/]*@/, ':***@');
  }
}

/**
 * One `--allow` entry: a directory (absolute, or relative to `cwd`; it must exist) or a package
 * name. Anything else is refused here rather than silently allowing nothing.
 */
function allowEntry(raw: string, cwd: string, command: string): string {
  if (raw === '') throw new UsageError(`${command}: --allow got an empty entry`);
  // Every module: for a cluster whose clients are all trusted (the library's own in-process node uses it).
  if (raw === '*') return raw;
  const looksLikePath = isAbsolute(raw) || raw.startsWith('.') || (raw.includes('/') && !raw.startsWith('@')) || raw.includes('\\');
  if (!looksLikePath && PACKAGE_NAME.test(raw)) return raw;
  if (!looksLikePath) throw new UsageError(`${command}: --allow '${raw}' is neither a directory (start paths with ./ or /) nor a package name`);
  const path = resolve(cwd, raw);
  if (!existsSync(path)) throw new UsageError(`${command}: --allow ${raw}: no such directory (${path})`);
  return path;
}

export function parseWorkerArgs(argv: readonly string[], cwd = process.cwd()): WorkerArgs {
  const command = 'tandem worker';
  const flags = tokenize(argv, ['redis', 'allow', 'workers', 'backends', 'name', 'concurrency', 'prefix'], [], command);
  const redis = checkRedisUrl(single(flags, 'redis', command), command);
  const allowRaw = flags.get('allow') ?? [];
  // A node that may run nothing would take jobs only to refuse them all: an error, not a default.
  if (allowRaw.length === 0) throw new UsageError(`${command}: --allow is required: the directories or packages whose task modules this node may run`);
  const allow = [...new Set(allowRaw.map((a) => allowEntry(a, cwd, command)))];
  const workers = positiveInt(single(flags, 'workers', command), 'workers', command);
  const concurrency = positiveInt(single(flags, 'concurrency', command), 'concurrency', command);
  const backendsRaw = single(flags, 'backends', command);
  let backends: string[] | undefined;
  if (backendsRaw !== undefined) {
    const names = backendsRaw.split(',').map((b) => b.trim()).filter(Boolean);
    if (names.length === 0) throw new UsageError(`${command}: --backends wants a comma-separated list (or none), got '${backendsRaw}'`);
    backends = names.length === 1 && names[0] === 'none' ? [] : names;
    if (backends.includes('none')) throw new UsageError(`${command}: --backends none can't be combined with other backends`);
  }
  const name = single(flags, 'name', command);
  if (name !== undefined && (name.trim() === '' || name.length > 200)) throw new UsageError(`${command}: --name must be 1 to 200 characters`);
  const prefix = single(flags, 'prefix', command);
  if (prefix !== undefined && prefix === '') throw new UsageError(`${command}: --prefix must not be empty`);
  return {
    redis, allow,
    ...(workers !== undefined && { workers }),
    ...(backends !== undefined && { backends }),
    ...(name !== undefined && { name }),
    ...(concurrency !== undefined && { concurrency }),
    ...(prefix !== undefined && { prefix }),
  };
}

export function parseStatusArgs(argv: readonly string[]): StatusArgs {
  const command = 'tandem cluster status';
  const flags = tokenize(argv, ['redis', 'prefix'], ['json'], command);
  const redis = checkRedisUrl(single(flags, 'redis', command), command);
  const prefix = single(flags, 'prefix', command);
  if (prefix !== undefined && prefix === '') throw new UsageError(`${command}: --prefix must not be empty`);
  return { redis, json: flags.has('json'), ...(prefix !== undefined && { prefix }) };
}

export interface DashboardArgs {
  readonly redis: string;
  readonly prefix?: string;
  readonly port: number;
  readonly host: string;
  readonly actions: boolean;
}

export function parseDashboardArgs(argv: readonly string[]): DashboardArgs {
  const command = 'tandem cluster dashboard';
  const flags = tokenize(argv, ['redis', 'prefix', 'port', 'host'], ['actions'], command);
  const redis = checkRedisUrl(single(flags, 'redis', command), command);
  const prefix = single(flags, 'prefix', command);
  if (prefix !== undefined && prefix === '') throw new UsageError(`${command}: --prefix must not be empty`);
  const rawPort = single(flags, 'port', command) ?? '3000';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) throw new UsageError(`${command}: --port must be a port number from 0 to 65535, got '${rawPort}'`);
  const host = single(flags, 'host', command) ?? '127.0.0.1';
  return { redis, port, host, actions: flags.has('actions'), ...(prefix !== undefined && { prefix }) };
}
