/**
 * A kernel call on a cluster node: a session task (`session-task.ts`) that loads the kernel from
 * the module it names — checked against the node's `--allow` list, since jobs carry no code — and
 * runs it on the node's session, whose planner splits it over the node's devices. A session
 * with no device of its own (a cluster client with `workers: 0`) runs its kernels this way.
 */
import { TaskModuleError } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { isUserKernel, type UserKernel, type UserKernelArg } from '../kernel/user.ts';
import type { SessionTaskContext } from './session-task.ts';

/** What the client sends: where the kernel is, its arguments (tensors travel as blobs) and its output shape. */
export interface RemoteKernelCall {
  readonly module: string;
  readonly kernel: string;
  readonly args: readonly UserKernelArg[];
  readonly output: readonly number[];
}

/** The package export a node resolves for this task (nodes must allow `@tandem/core`). */
export const REMOTE_KERNEL_MODULE = '@tandem/core/internal/cluster/remote-kernel';

/**
 * Runs `call.kernel` from `call.module` on the node's session. Called by the node.
 *
 * @example
 * ```ts
 * // The session does this for td.map on a session without devices:
 * await client.runSessionTask(REMOTE_KERNEL_MODULE, 'mapKernel', [{ module: href, kernel: 'km', args, output: [n] }]);
 * ```
 */
export async function mapKernel(context: SessionTaskContext, call: RemoteKernelCall): Promise<Tensor> {
  const href = context.allowed(call.module);
  const mod = (await import(href)) as Record<string, unknown>;
  const k = Object.values(mod).find((v) => isUserKernel(v) && v.name === call.kernel) as UserKernel | undefined;
  if (!k) throw new TaskModuleError('ERR_TANDEM_KERNEL_NOT_FOUND', `${href} exports no kernel named '${call.kernel}' (declare it with kernel('${call.kernel}', fn, { module: import.meta.url }) and export it)`);
  return context.session.map(k, call.args, { output: [...call.output] as never });
}
