/**
 * A kernel call on a cluster node: a session task (`session-task.ts`) that loads the kernel from
 * the module it names — checked against the node's `--allow` list, since jobs carry no code — and
 * runs it on the node's session. Two forms:
 * - `mapKernel`: the whole call, which the node's planner splits over its devices. A session with
 *   no device of its own (a cluster client with `workers: 0`) runs its kernels this way.
 * - `mapKernelSlice`: one range of a call whose other ranges run elsewhere — the client's planner
 *   split the call over its own devices and the cluster (`cluster-device.ts`).
 */
import { ArgumentError } from '../errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { userCall, type UserKernelArg } from '../kernel/user.ts';
import { loadKernel } from '../kernel/load.ts';
import type { IndexRange } from '../kernel/types.ts';
import { sessionInternals } from '../session/internals.ts';
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
  const k = await kernelOf(context, call);
  return context.session.map(k, call.args, { output: [...call.output] as never });
}

/** A slice of a call: which range of the output's flat indices to compute. */
export interface RemoteKernelSlice extends RemoteKernelCall {
  readonly range: IndexRange;
}

/**
 * Computes `slice.range` of the call on the node's fastest device and resolves to those output
 * elements alone (flat, `range.end - range.start` of them). Called by the node.
 *
 * @example
 * ```ts
 * // The cluster device does this for each range the client's planner gives it:
 * await client.runSessionTask(REMOTE_KERNEL_MODULE, 'mapKernelSlice', [{ module: href, kernel: 'km', args, output: [n], range: { start: 0, end: n / 2 } }], { queue: KERNEL_QUEUE });
 * ```
 */
export async function mapKernelSlice(context: SessionTaskContext, slice: RemoteKernelSlice): Promise<Tensor> {
  const k = await kernelOf(context, slice);
  const call = userCall(k, slice.args, [...slice.output] as never);
  const { start, end } = slice.range;
  const extent = call.output.size;
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start < end && end <= extent)) {
    throw new ArgumentError('slice.range', `a range [start, end) inside the output's ${extent} elements`, slice.range);
  }
  await sessionInternals(context.session).runRange(call, slice.range);
  return new Tensor('float32', [end - start], call.output.data.subarray(start, end) as never);
}

const kernelOf = (context: SessionTaskContext, call: RemoteKernelCall) => loadKernel({ module: call.module, name: call.kernel }, (m) => context.allowed(m));
