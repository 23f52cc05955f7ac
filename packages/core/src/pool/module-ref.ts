import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ArgumentError, TaskModuleError } from '../errors.ts';

/** Where a task function lives: a `file:` URL (usually `new URL('./tasks.ts', import.meta.url)`) or a file path. */
export type ModuleSpecifier = URL | string;

const known = new Set<string>();

/**
 * Turns a specifier into the `file:` URL workers import, and checks the file exists, so a typo
 * fails at the call rather than inside a worker. A found file is remembered; a missing one is
 * checked again next time (it may be written later).
 */
export function resolveTaskModule(spec: ModuleSpecifier, argument = 'module'): string {
  let href: string;
  if (spec instanceof URL) href = spec.href;
  else if (typeof spec === 'string' && spec.startsWith('file:')) href = new URL(spec).href;
  else if (typeof spec === 'string' && spec.length > 0 && (isAbsolute(spec) || spec.startsWith('.'))) href = pathToFileURL(resolve(spec)).href;
  else throw new ArgumentError(argument, "a file URL or path of a task module, e.g. new URL('./tasks.ts', import.meta.url)", spec);
  if (known.has(href)) return href;
  if (!href.startsWith('file:')) throw new ArgumentError(argument, 'a file: URL (workers load task modules from disk)', href);
  const path = fileURLToPath(href);
  if (!existsSync(path)) {
    throw new TaskModuleError('ERR_TANDEM_MODULE_NOT_FOUND', `task module not found: ${path}`);
  }
  known.add(href);
  return href;
}

/**
 * What a cluster job (or a kernel's `module`) names a module by: a package specifier as it is,
 * resolved on the node that loads it; a path or URL as {@link resolveTaskModule} resolves it here
 * (it must exist here too, so a typo fails at the call).
 */
export function moduleName(spec: ModuleSpecifier, argument = 'module'): string {
  if (typeof spec === 'string' && !spec.startsWith('file:') && !spec.startsWith('.') && !isAbsolute(spec)) {
    if (!/^(@[\w.-]+\/)?[\w.-]+(\/[\w./-]+)?$/.test(spec)) throw new ArgumentError(argument, 'a file URL, a path or a package name', spec);
    return spec;
  }
  return resolveTaskModule(spec, argument);
}
