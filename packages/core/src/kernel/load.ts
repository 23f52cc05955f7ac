/**
 * A user kernel loaded by name from the module that declares it: how a cluster's node finds the
 * kernel a job names (jobs carry no code), after its `--allow` list let it load the module.
 */
import { TaskModuleError } from '../errors.ts';
import { isUserKernel, type UserKernel } from './user.ts';

/** A kernel by where a node finds it: the module it names and its name there. */
export interface KernelRef {
  readonly module: string;
  readonly name: string;
}

/** The kernel `ref` names, from its module if `allowed` (the node's `--allow` check) lets it load it. */
export async function loadKernel(ref: KernelRef, allowed: (module: string) => string): Promise<UserKernel> {
  const href = allowed(ref.module);
  const mod = (await import(href)) as Record<string, unknown>;
  const k = Object.values(mod).find((v) => isUserKernel(v) && v.name === ref.name) as UserKernel | undefined;
  if (!k) throw new TaskModuleError('ERR_TANDEM_KERNEL_NOT_FOUND', `${href} exports no kernel named '${ref.name}' (declare it with kernel('${ref.name}', fn, { module: import.meta.url }) and export it)`);
  return k;
}
