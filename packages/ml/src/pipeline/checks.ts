/** Argument checks: bad input fails at the call that made it, naming the argument. */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ArgumentError, Tensor, type ModuleSpecifier } from '@tandem/core';
import type { LabelledSet } from '../datasets/index.ts';

export function integerAtLeast(value: unknown, min: number, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw new ArgumentError(name, min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`, value);
  }
  return value as number;
}

export function safeInteger(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value)) throw new ArgumentError(name, 'an integer', value);
  return value as number;
}

export function checkSource(source: unknown): LabelledSet {
  if (typeof source !== 'object' || source === null) throw new ArgumentError('source', 'a LabelledSet { x, y }', source);
  const { x, y } = source as Partial<LabelledSet>;
  if (!(x instanceof Tensor) || x.dtype !== 'float32' || x.shape.length !== 2) {
    throw new ArgumentError('source.x', 'a float32 Tensor of shape [rows, features]', x instanceof Tensor ? `${x.dtype} [${x.shape.join(', ')}]` : x);
  }
  if (!(y instanceof Tensor) || y.dtype !== 'int32' || y.shape.length !== 1 || y.shape[0] !== x.shape[0]) {
    throw new ArgumentError('source.y', `an int32 Tensor of shape [${x.shape[0]}]`, y instanceof Tensor ? `${y.dtype} [${y.shape.join(', ')}]` : y);
  }
  // Workers read the source in place; a copy per block would defeat the point.
  if (!x.shared || !y.shared) throw new ArgumentError('source', 'tensors on shared memory (Tensor.zeros / Tensor.from)', 'a tensor on an ordinary ArrayBuffer');
  return { x: x as Tensor<'float32'>, y: y as Tensor<'int32'> };
}

/** The file: URL of a map module, checked to exist so a typo fails here, not in every worker. */
export function resolveMapModule(spec: ModuleSpecifier): string {
  let href: string;
  if (spec instanceof URL) href = spec.href;
  else if (typeof spec === 'string' && spec.startsWith('file:')) href = new URL(spec).href;
  else if (typeof spec === 'string' && spec.length > 0 && (isAbsolute(spec) || spec.startsWith('.'))) href = pathToFileURL(resolve(spec)).href;
  else throw new ArgumentError('module', "a file URL or path of a module, e.g. new URL('./augment.ts', import.meta.url)", spec);
  if (!href.startsWith('file:')) throw new ArgumentError('module', 'a file: URL (workers load map modules from disk)', href);
  if (!existsSync(fileURLToPath(href))) throw new ArgumentError('module', 'an existing module file', fileURLToPath(href));
  return href;
}

export function checkCloneable(value: unknown, name: string): void {
  try {
    structuredClone(value);
  } catch {
    throw new ArgumentError(name, 'a structured-cloneable value (it is sent to every worker)', value);
  }
}
