/**
 * User kernels on the CPU: the very function source the GPU backends compile to shaders, run as
 * plain JS once per output element, with `this` shaped like gpu.js's (`thread`, `output`,
 * `constants`). Tensor arguments look like gpu.js's arrays: flat for 1-D, nested row views for
 * 2-D and 3-D, so `a[y][x]` reads shared memory without copying.
 */
import type { KernelConstant, Tensor, UserKernelSource } from '@tandem/core/backend';
import { applyEdits, parseFunction, walk, type Edit } from '../../kernel-source.ts';

type KernelFn = (...args: unknown[]) => number;
type Driver = (self: KernelSelf, args: readonly unknown[], o: Float32Array, first: number, last: number, inner: number, x: number) => void;

interface KernelSelf {
  thread: { x: number; y: number; z: number };
  output: { x: number; y: number; z: number };
  constants: Readonly<Record<string, KernelConstant>>;
}

interface Compiled {
  readonly fn: KernelFn;
  /** What every `this` in the kernel and its helpers reads; set per run. */
  readonly self: KernelSelf;
  /** Per `arity:rank`: the loop that calls this kernel (see {@link driver}). */
  readonly drivers: Map<string, Driver>;
}

const compiled = new Map<string, Compiled>();

/**
 * esbuild with keepNames (tsx, which runs this project) wraps inner functions of a kernel as
 * `__name(fn, "name")`, calling a helper of the kernel's own module that a worker doesn't have.
 */
const keepNamesHelper = <T>(fn: T): T => fn;

/**
 * Compiles a kernel and its helpers once per worker. In gpu.js's dialect every `this` means the
 * kernel's, helpers included; JS would give a helper called as `h()` no `this` at all, so each
 * `this` becomes a reference to one shared object the run fills in.
 */
export function compileKernel(source: string, functions: readonly string[] = []): Compiled {
  const key = functions.length === 0 ? source : `${source}\n${functions.join('\n')}`;
  let c = compiled.get(key);
  if (!c) {
    const self: KernelSelf = { thread: { x: 0, y: 0, z: 0 }, output: { x: 1, y: 1, z: 1 }, constants: {} };
    const helpers = functions.map((f) => `${bindThis(f)};`).join('\n');
    const fn = new Function('__name', SELF, `"use strict"; ${helpers}\nreturn (${bindThis(source)});`)(keepNamesHelper, self) as KernelFn;
    if (typeof fn !== 'function') throw new TypeError('a user kernel source must be a function expression');
    c = { fn, self, drivers: new Map() };
    compiled.set(key, c);
  }
  return c;
}

const SELF = '__tandemSelf';

/** `source` with each `this` replaced by the shared self object (arrows keep theirs: it is the same). */
export function bindThis(source: string): string {
  const edits: Edit[] = [];
  walk(parseFunction(source), (node) => {
    if (node.type === 'ThisExpression') edits.push({ start: node.start, end: node.end, text: SELF });
  });
  return applyEdits(source, edits);
}

/**
 * A loop calling the kernel with its arguments spread as locals (`fn.call(self, a0, a1, ...)`),
 * generated per arity and rank so V8 sees a fixed call shape, not `apply` over an array. Each
 * kernel has its own loops, holding it as a closure constant: V8 then inlines the kernel into
 * the loop (a loop shared by every kernel of an arity, given the kernel as an argument, ran a
 * great-circle kernel at 45 ns per element against 33 ns inlined). The generated text is built
 * from numbers only; no user input reaches it.
 */
function driver(kernel: Compiled, arity: number, rank: number): Driver {
  const key = `${arity}:${rank}`;
  let d = kernel.drivers.get(key);
  if (!d) {
    const names = Array.from({ length: arity }, (_, i) => `a${i}`);
    const call = `fn.call(self${names.map((n) => `, ${n}`).join('')})`;
    const unpack = arity > 0 ? `const [${names.join(', ')}] = args;` : '';
    // first/last index the outermost dimension; `inner` is Y for 3-D; `x` is the row length.
    const body = rank === 1
      ? `for (let i = first; i < last; i++) { t.x = i; o[i - first] = ${call}; }`
      : rank === 2
        ? `let k = 0; for (let y = first; y < last; y++) { t.y = y; for (let i = 0; i < x; i++) { t.x = i; o[k++] = ${call}; } }`
        : `let k = 0; for (let z = first; z < last; z++) { t.z = z; for (let y = 0; y < inner; y++) { t.y = y; for (let i = 0; i < x; i++) { t.x = i; o[k++] = ${call}; } } }`;
    d = new Function('fn', `"use strict"; return function (self, args, o, first, last, inner, x) { ${unpack} const t = self.thread; t.x = 0; t.y = 0; t.z = 0; ${body} };`)(kernel.fn) as Driver;
    kernel.drivers.set(key, d);
  }
  return d;
}

/** A tensor as gpu.js shows arrays to a kernel: flat, rows, or planes of rows (views, not copies). */
export function kernelView(t: Tensor): unknown {
  const { data, shape } = t;
  if (shape.length <= 1) return data;
  if (shape.length === 2) return rows(data, shape[0]!, shape[1]!, 0);
  const [d0, d1, d2] = shape as [number, number, number];
  const planes = new Array<unknown>(d0);
  for (let z = 0; z < d0; z++) planes[z] = rows(data, d1, d2, z * d1 * d2);
  return planes;
}

function rows(data: Tensor['data'], n: number, len: number, offset: number): unknown[] {
  const out = new Array<unknown>(n);
  for (let r = 0; r < n; r++) out[r] = data.subarray(offset + r * len, offset + (r + 1) * len);
  return out;
}

/**
 * Runs the kernel for output elements [start, end) (whole rows/planes) into `o` (o[0] is element
 * `start`). The output shape is the tensor's ([y, x] for gpu.js's [x, y]).
 */
export function runUserKernel(user: UserKernelSource, args: readonly (Tensor | number)[], outShape: readonly number[], start: number, end: number, o: Float32Array): void {
  const kernel = compileKernel(user.source, user.functions);
  const { self } = kernel;
  const rank = Math.max(1, outShape.length);
  const [x, y, z] = [...outShape].reverse() as [number, number?, number?];
  self.output = { x: x ?? 1, y: y ?? 1, z: z ?? 1 };
  self.constants = user.constants;
  const booleans = new Set(user.booleanArgs ?? []);
  const views = args.map((a, i) => (typeof a === 'number' ? (booleans.has(i) ? a !== 0 : a) : kernelView(a)));
  const plane = rank === 1 ? 1 : rank === 2 ? x : x * y!;
  if (plane === 0) return;
  driver(kernel, views.length, rank)(self, views, o, start / plane, end / plane, y ?? 1, x);
}
