/**
 * The planner bench's mixed workload: a Mandelbrot user kernel (data-parallel, uneven work per
 * row) and a DAG of built-in ops (independent matmul → relu → sum chains joined by an add chain).
 */
import { Tensor, kernel, type KernelThis, type OpOptions, type Ops, type UserKernel } from '@tandem/core';

/** Escape time over maxIter (1 inside the set); rows near the real axis cost the most. */
export function mandelbrotKernel(maxIter: number): UserKernel {
  return kernel('mandelbrot', function (this: KernelThis, x0: number, y0: number, step: number) {
    const cr = x0 + this.thread.x * step;
    const ci = y0 + this.thread.y * step;
    let zr = 0.0;
    let zi = 0.0;
    let escape = this.constants.maxIter!;
    for (let i = 0; i < this.constants.maxIter!; i++) {
      const zr2 = zr * zr;
      const zi2 = zi * zi;
      if (zr2 + zi2 > 16.0) {
        escape = i + 1.0;
        break;
      }
      zi = 2.0 * zr * zi + ci;
      zr = zr2 - zi2 + cr;
    }
    return escape / this.constants.maxIter!;
  }, { maxIter });
}

/** Kernel arguments for an n×n image of the view centred on (-0.65, 0), 3 units wide. */
export function mandelbrotArgs(n: number): [number, number, number] {
  const step = 3 / n;
  return [-0.65 - (n / 2) * step, -(n / 2) * step, step];
}

/** Pixels of `got` that differ from `ref` by more than 1e-3 (float32 GPU vs float64 CPU parts ways on the set's boundary). */
export function pixelsOff(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  let off = 0;
  for (let i = 0; i < ref.length; i++) if (!(Math.abs(ref[i]! - got[i]!) <= 1e-3)) off++;
  return off;
}

/** Deterministic uniform values in [-1, 1). */
export function randomValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

export interface DagInputs {
  readonly n: number;
  readonly a: readonly Float32Array[];
  readonly b: readonly Float32Array[];
}

export function dagInputs(n: number, chains: number): DagInputs {
  return {
    n,
    a: Array.from({ length: chains }, (_, i) => randomValues(n * n, 1000 + i)),
    b: Array.from({ length: chains }, (_, i) => randomValues(n * n, 2000 + i)),
  };
}

/** Where each op of the DAG runs when placed by hand: chain i's matmul and relu, and the add chain + final sum. */
export interface DagPlacement {
  readonly chain: (i: number) => string;
  readonly tail: string;
}

/** Chains' sums, then the sum of the add chain: chains + 1 values. */
export interface DagRun {
  readonly outputs: readonly Tensor[];
  readonly nodes: number;
}

/**
 * Issues the DAG in one turn: per chain C = A·B, R = relu(C), s = sum(R); then
 * T = R0 + R1 + … (an add chain) and total = sum(T). Ops name a device only under `placement`.
 */
export function issueDag(ops: Ops, tensors: { a: readonly Tensor[]; b: readonly Tensor[] }, placement?: DagPlacement): DagRun {
  const on = (device: string | undefined): OpOptions | undefined => (device === undefined ? undefined : { device });
  const relus: Tensor[] = [];
  const outputs: Tensor[] = [];
  let nodes = 0;
  for (let i = 0; i < tensors.a.length; i++) {
    const where = on(placement?.chain(i));
    const c = ops.matmul(tensors.a[i]!, tensors.b[i]!, where);
    const r = ops.relu(c, where);
    outputs.push(ops.sum(r, where));
    relus.push(r);
    nodes += 3;
  }
  const tail = on(placement?.tail);
  let t = relus[0]!;
  for (let i = 1; i < relus.length; i++) {
    t = ops.add(t, relus[i]!, tail);
    nodes++;
  }
  outputs.push(ops.sum(t, tail));
  return { outputs, nodes: nodes + 1 };
}

/** The DAG's expected outputs in float64. */
export function dagReference(inputs: DagInputs): number[] {
  const { n } = inputs;
  const total = new Float64Array(n * n);
  const sums: number[] = [];
  const row = new Float64Array(n);
  for (let k = 0; k < inputs.a.length; k++) {
    const a = inputs.a[k]!;
    const b = inputs.b[k]!;
    let s = 0;
    for (let i = 0; i < n; i++) {
      row.fill(0);
      for (let p = 0; p < n; p++) {
        const av = a[i * n + p]!;
        const off = p * n;
        for (let j = 0; j < n; j++) row[j]! += av * b[off + j]!;
      }
      for (let j = 0; j < n; j++) {
        const v = Math.max(0, row[j]!);
        s += v;
        total[i * n + j]! += v;
      }
    }
    sums.push(s);
  }
  let t = 0;
  for (let i = 0; i < total.length; i++) t += total[i]!;
  return [...sums, t];
}

/** Largest relative error of the DAG's outputs against the reference. */
export function dagError(outputs: readonly Tensor[], reference: readonly number[]): number {
  let worst = 0;
  outputs.forEach((t, i) => {
    const got = t.data[0]!;
    worst = Math.max(worst, Math.abs(got - reference[i]!) / Math.max(1e-12, Math.abs(reference[i]!)));
  });
  return Number.isFinite(worst) ? worst : Number.POSITIVE_INFINITY;
}

/** Wraps the inputs as tensors for one session (tensors carry per-device residency, so sessions don't share them). */
export function dagTensors(inputs: DagInputs): { a: Tensor[]; b: Tensor[] } {
  const shape = [inputs.n, inputs.n];
  return { a: inputs.a.map((d) => Tensor.from(d, shape)), b: inputs.b.map((d) => Tensor.from(d, shape)) };
}
