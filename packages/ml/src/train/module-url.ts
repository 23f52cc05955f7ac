import { isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ArgumentError, type ModuleSpecifier } from '@tandem/core';

/** The file: URL of a model module, checked to exist so a typo fails here, not in every worker. */
export function resolveModelUrl(spec: ModuleSpecifier): string {
  let href: string;
  if (spec instanceof URL) href = spec.href;
  else if (typeof spec === 'string' && spec.startsWith('file:')) href = new URL(spec).href;
  else if (typeof spec === 'string' && (isAbsolute(spec) || spec.startsWith('.'))) href = pathToFileURL(resolve(spec)).href;
  else throw new ArgumentError('model', 'a file URL or path of a module exporting createModel(config)', spec);
  if (!href.startsWith('file:')) throw new ArgumentError('model', 'a file: URL', href);
  if (!existsSync(fileURLToPath(href))) throw new ArgumentError('model', 'an existing module file', fileURLToPath(href));
  return href;
}
