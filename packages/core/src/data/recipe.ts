/**
 * A table's stages as data: how a cluster's node builds the same pipeline over the row groups it
 * reads. Only stages whose every part can cross machines are recorded — column names, values,
 * kernels declared with their module, task modules by name; the first stage that can't (a join
 * with a table in memory, a kernel without a module) ends the recipe, and what follows runs on
 * the client.
 */
import { isUserKernel, type UserKernel } from '../kernel/user.ts';
import { loadKernel, type KernelRef } from '../kernel/load.ts';
import type { ModuleSpecifier } from '../pool/module-ref.ts';
import type { ColumnType } from './column.ts';
import type { Comparison } from './stages/compare-rows.ts';
import type { AggSpec } from './stages/group-by.ts';

export type { KernelRef };

/** One recorded stage. */
export type Step =
  | { readonly op: 'select'; readonly columns: readonly string[] }
  | { readonly op: 'rename'; readonly mapping: Readonly<Record<string, string>> }
  | { readonly op: 'filter'; readonly column: string; readonly cmp: Comparison; readonly value: number | string | boolean | Date }
  | { readonly op: 'filterKernel'; readonly kernel: KernelRef; readonly columns: readonly string[] }
  | { readonly op: 'withColumn'; readonly name: string; readonly kernel: KernelRef; readonly columns: readonly string[] }
  | { readonly op: 'mapBatches'; readonly module: string; readonly exportName: string; readonly output: Readonly<Record<string, ColumnType>>; readonly concurrency: number };

/** The stages a node can rebuild: the steps, then at most one group-by, which ends the recipe. */
export interface Recipe {
  readonly steps: readonly Step[];
  readonly groupBy?: { readonly keys: readonly string[]; readonly spec: AggSpec };
  /** No stage can be added: one was not recordable, or a group-by ended it. */
  readonly closed: boolean;
}

export const EMPTY_RECIPE: Recipe = { steps: [], closed: false };

/** The recipe with `step` added; closed when `step` is undefined (a stage no node can rebuild). */
export function withStep(recipe: Recipe, step: Step | undefined): Recipe {
  if (recipe.closed) return recipe;
  return step ? { steps: [...recipe.steps, step], closed: false } : { ...recipe, closed: true };
}

/** The recipe ended by a group-by. */
export function withGroupBy(recipe: Recipe, keys: readonly string[], spec: AggSpec): Recipe {
  return recipe.closed ? recipe : { steps: recipe.steps, groupBy: { keys, spec }, closed: true };
}

/** A kernel as a step names it, or undefined for one no node could load. */
export function kernelRef(k: UserKernel): KernelRef | undefined {
  return isUserKernel(k) && k.module ? { module: k.module, name: k.name } : undefined;
}

/** What a table offers a replay: its stage methods, as a node's session builds them. */
export interface Replayable<T> {
  select(...columns: string[]): T;
  rename(mapping: Readonly<Record<string, string>>): T;
  filter(column: string, op: Comparison, value: number | string | boolean | Date): T;
  filter(predicate: UserKernel, columns: readonly string[]): T;
  withColumn(name: string, k: UserKernel, columns: readonly string[]): T;
  mapBatches(module: ModuleSpecifier, exportName: string, options: { output: Readonly<Record<string, ColumnType>>; concurrency?: number }): T;
}

/**
 * Applies `steps` to `table` on a node: kernels and task modules are loaded only from modules
 * `allowed` lets this node run (its `--allow` list), as every job's are.
 */
export async function replay<T extends Replayable<T>>(table: T, steps: readonly Step[], allowed: (module: string) => string): Promise<T> {
  let t = table;
  for (const s of steps) {
    switch (s.op) {
      case 'select': t = t.select(...s.columns); break;
      case 'rename': t = t.rename(s.mapping); break;
      case 'filter': t = t.filter(s.column, s.cmp, s.value); break;
      case 'filterKernel': t = t.filter(await loadKernel(s.kernel, allowed), s.columns); break;
      case 'withColumn': t = t.withColumn(s.name, await loadKernel(s.kernel, allowed), s.columns); break;
      case 'mapBatches': t = t.mapBatches(allowed(s.module), s.exportName, { output: s.output, concurrency: s.concurrency }); break;
    }
  }
  return t;
}
