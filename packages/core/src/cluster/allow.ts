/**
 * Which task modules a node runs: only files under the directories it was started with
 * (`--allow /srv/tasks`) or packages it names (`--allow my-tasks`), resolved on the node — a job
 * names a module, never carries code, and a module outside the list is refused before it loads.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TaskModuleError } from '../errors.ts';

export interface AllowList {
  readonly directories: readonly string[];
  readonly packages: readonly string[];
  /** `--allow '*'`: every module (a client's own in-process node; a cluster whose clients are all trusted). */
  readonly everything: boolean;
}

/** Splits `--allow` entries into directories (paths) and package names. */
export function allowList(entries: readonly string[]): AllowList {
  const directories: string[] = [];
  const packages: string[] = [];
  let everything = false;
  for (const e of entries) {
    if (e === '*') {
      everything = true;
      continue;
    }
    if (isAbsolute(e) || e.startsWith('.') || e.startsWith('file:')) directories.push(real(e.startsWith('file:') ? fileURLToPath(e) : resolve(e)));
    else packages.push(e);
  }
  return { directories, packages, everything };
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * The file: URL to import for `module`, if the list allows it; else throws TaskModuleError saying
 * why (the caller sees it as the task's error).
 */
export function allowedModule(module: string, list: AllowList, node: string): string {
  if (module.startsWith('file:')) {
    const path = real(fileURLToPath(module));
    if (list.everything) return pathToFileURL(path).href;
    const inside = list.directories.some((d) => {
      const rel = relative(d, path);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..');
    });
    if (!inside) throw new TaskModuleError('ERR_TANDEM_MODULE_REFUSED', `node ${node} refused ${path}: not under its --allow list (${list.directories.join(', ') || 'no directories'})`);
    return pathToFileURL(path).href;
  }
  const name = module.startsWith('@') ? module.split('/').slice(0, 2).join('/') : module.split('/')[0]!;
  if (!list.everything && !list.packages.includes(name)) throw new TaskModuleError('ERR_TANDEM_MODULE_REFUSED', `node ${node} refused package '${module}': not in its --allow list (${list.packages.join(', ') || 'no packages'})`);
  try {
    return pathToFileURL(createRequire(pathToFileURL(`${process.cwd()}/`).href).resolve(module)).href;
  } catch (error) {
    throw new TaskModuleError('ERR_TANDEM_MODULE_NOT_FOUND', `node ${node} has no package '${module}' installed: ${(error as Error).message}`);
  }
}
