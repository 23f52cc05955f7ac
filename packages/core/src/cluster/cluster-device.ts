/**
 * The cluster as one more device of a client's planner: the other nodes that take kernel slices,
 * reached through Redis. A user kernel's call (a `td.map`, a `withColumn` batch) is then split
 * over this machine's devices and the cluster by measured costs, as over a CPU and a GPU: the
 * cluster's time per slice includes moving the arguments and the result through Redis, so the
 * planner sends it the compute-heavy calls that pay for that and keeps the rest here.
 *
 * A slice is one job per node (sized by their workers) on the `kernels` queue, which the client's
 * own node does not take. Only user kernels declared with their module run here: a node loads the
 * kernel from it (checked against its `--allow` list), jobs carry no code. When every such node
 * has gone (their heartbeats expired), a running slice rejects with `DeviceLostError` and the
 * executor gives its range to the devices left; a node that dies while others live loses its job
 * to one of them (BullMQ's stalled-job recovery).
 */
import type { Backend, BackendHealth, DeviceDescription, TransferStats } from '../backend/contract.ts';
import { DeviceLostError, TaskModuleError } from '../errors.ts';
import type { IndexRange, KernelCall, PartialResult } from '../kernel/types.ts';
import { MAX_TENSOR_BYTES, Tensor } from '../tensor/tensor.ts';
import type { ClusterClient } from './client.ts';
import type { NodeInfo } from './heartbeat.ts';
import { KERNEL_QUEUE } from './options.ts';
import { REMOTE_KERNEL_MODULE, type RemoteKernelSlice } from './remote-kernel.ts';

/** The cluster device's id, in the cost model, traces and explain(). */
export const CLUSTER_DEVICE = 'cluster';
/** How often a running slice checks that some node is still there to compute it. */
const WATCH_MS = 1000;

export class ClusterDevice implements Backend {
  readonly name = CLUSTER_DEVICE;
  private readonly moved = { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 };
  /** Modules a node refused (not under its `--allow` list): their kernels stay on this machine. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly client: ClusterClient,
    /** This session's own node, which takes no slices. */
    private readonly ownNode: () => string | undefined,
  ) {}

  /** The live nodes that take slices, as last seen (every few seconds). */
  private nodes(): NodeInfo[] {
    const own = this.ownNode();
    return this.client.nodes().filter((n) => n.id !== own && n.kernelSlices === true);
  }

  get device(): DeviceDescription {
    const nodes = this.nodes();
    return {
      id: CLUSTER_DEVICE,
      backend: CLUSTER_DEVICE,
      kind: 'cluster',
      description: nodes.length === 0 ? 'no node taking kernel slices' : `${nodes.length} node${nodes.length === 1 ? '' : 's'}: ${nodes.map((n) => n.name).join(', ')}`,
      software: false,
      lanes: nodes.reduce((s, n) => s + n.workers, 0),
      limits: { maxBufferBytes: MAX_TENSOR_BYTES, maxBindingBytes: MAX_TENSOR_BYTES },
    };
  }

  async init(): Promise<void> {}

  /** Lost while no other node takes slices: the planner leaves the cluster out until one joins. */
  health(): BackendHealth {
    return this.nodes().length > 0 ? 'ok' : 'lost';
  }

  supports(kernel: string): boolean {
    return kernel === 'user';
  }

  supportsCall(call: KernelCall): boolean {
    return call.user?.module !== undefined && !this.refused.has(call.user.module);
  }

  async run(call: KernelCall, range?: IndexRange): Promise<PartialResult | undefined> {
    const user = call.user;
    if (!user?.module) throw new DeviceLostError(CLUSTER_DEVICE, `kernel '${call.kernel}' names no module its nodes could load it from`);
    const whole = range ?? { start: 0, end: call.output.size };
    const nodes = this.nodes();
    if (nodes.length === 0) throw new DeviceLostError(CLUSTER_DEVICE, 'no node of the cluster takes kernel slices now');
    // Numbers again where the kernel was given booleans: the node's userCall converts them back.
    const args = call.args.map((a, i) => (user.booleanArgs?.includes(i) ? a === 1 : a));
    const argBytes = call.args.reduce<number>((s, a) => s + (a instanceof Tensor ? a.data.byteLength : 0), 0);
    const cancel = new AbortController();
    const watch = setInterval(() => {
      if (this.nodes().length === 0) cancel.abort(new DeviceLostError(CLUSTER_DEVICE, 'every node taking kernel slices left the cluster while one ran'));
    }, WATCH_MS);
    watch.unref();
    try {
      await Promise.all(shares(whole, nodes.map((n) => n.workers)).map(async (part) => {
        const slice: RemoteKernelSlice = { module: user.module!, kernel: user.name, args, output: [...call.output.shape], range: part };
        this.moved.uploads++;
        this.moved.uploadBytes += argBytes;
        const values = await this.client.runSessionTask<Tensor>(REMOTE_KERNEL_MODULE, 'mapKernelSlice', [slice], { queue: KERNEL_QUEUE, signal: cancel.signal });
        if (!(values instanceof Tensor) || values.size !== part.end - part.start) throw new DeviceLostError(CLUSTER_DEVICE, `a node returned ${values instanceof Tensor ? values.size : typeof values} values for a slice of ${part.end - part.start}`);
        this.moved.downloads++;
        this.moved.downloadBytes += values.data.byteLength;
        (call.output.data as Float32Array).set(values.data as Float32Array, part.start);
      }));
    } catch (error) {
      // The other parts of this range are not waited for: the range goes elsewhere whole.
      cancel.abort(error);
      if (error instanceof TaskModuleError) this.refused.add(user.module);
      throw error;
    } finally {
      clearInterval(watch);
    }
    return undefined;
  }

  async upload(): Promise<void> {}

  transfers(): TransferStats {
    return { ...this.moved };
  }

  async dispose(): Promise<void> {}
}

/** `range` cut into one contiguous part per weight, in proportion (parts of no element dropped). */
export function shares(range: IndexRange, weights: readonly number[]): IndexRange[] {
  const n = range.end - range.start;
  const total = weights.reduce((a, w) => a + Math.max(1, w), 0);
  const out: IndexRange[] = [];
  let at = range.start;
  let acc = 0;
  for (const w of weights) {
    acc += Math.max(1, w);
    const end = range.start + Math.round((n * acc) / total);
    if (end > at) out.push({ start: at, end });
    at = end;
  }
  return out;
}
