/**
 * The lazy graph: ops issued in one turn of the event loop become nodes, and an edge runs from the
 * node that writes a tensor to each node that reads it. The planner places the nodes; the
 * executor runs them in an order that respects the edges.
 */
import type { Backend } from '../backend/contract.ts';
import type { KernelCall } from '../kernel/types.ts';
import { Tensor } from '../tensor/tensor.ts';

/** One kernel call of the graph, and how its caller hears that it finished. */
export interface GraphNode {
  readonly id: string;
  readonly call: KernelCall;
  /** A device the user named, if any: the node never moves from it. */
  readonly device: Backend | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

/** The edges of one batch of nodes, from the tensors they write and read. */
export class GraphEdges {
  private readonly producer = new Map<Tensor, GraphNode>();

  constructor(nodes: readonly GraphNode[]) {
    for (const n of nodes) this.producer.set(n.call.output, n);
  }

  /** The node of this graph that writes `t`, if any (else `t` comes from outside: an input). */
  producerOf(t: Tensor): GraphNode | undefined {
    return this.producer.get(t);
  }

  /** The nodes of this graph whose outputs `n` reads. */
  depsOf(n: GraphNode): GraphNode[] {
    return n.call.args.filter((a): a is Tensor => a instanceof Tensor && this.producer.has(a) && this.producer.get(a) !== n).map((t) => this.producer.get(t)!);
  }
}
