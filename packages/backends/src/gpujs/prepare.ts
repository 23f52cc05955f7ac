/**
 * A user kernel's source made ready for gpu.js, and refused up front — naming the construct and
 * its line — where gpu.js would fail later with a WGSL error or, worse, run something else:
 * - `__name(f, "f")` wrappers that tsx (esbuild keepNames) adds around inner functions go;
 * - `const { x, y } = this.thread` becomes plain member reads;
 * - `Math.max`/`Math.min` of three or more arguments nest pairwise;
 * - `x /= e` and `x %= e` expand, so they divide as `/` and `%` do; `NaN` is spelled `(0 / 0)`;
 * - the outermost thread index starts at the `tandemOffset` argument and the outermost output
 *   size reads `tandemOuter` (see user-program.ts), in the kernel and in every helper that reads
 *   them, which take both as trailing parameters.
 */
import { ArgumentError } from '@tandem/core/backend';
import { applyEdits, isThisMember, lineOf, parseFunction, walk, type AnyNode, type Edit } from '../kernel-source.ts';
import { KernelUnsupportedError } from './errors.ts';

export const OFFSET_ARG = 'tandemOffset';
export const OUTER_ARG = 'tandemOuter';
const AXES = ['x', 'y', 'z'] as const;

export interface PreparedKernel {
  /** The kernel function, with `tandemOffset, tandemOuter` as its last two parameters. */
  readonly source: string;
  /** Helper functions for gpu.js's `functions` setting. */
  readonly functions: readonly string[];
}

/**
 * Rewrites a kernel (and its helpers) for a gpu.js program over part of a rank-`rank` output.
 *
 * @example
 * ```ts
 * prepareKernel('k', 'function (a) { const { x } = this.thread; return a[x]; }', [], 1).source;
 * // 'function (a, tandemOffset, tandemOuter) { const x = (this.thread.x + tandemOffset); return a[x]; }'
 * ```
 */
export function prepareKernel(name: string, source: string, functions: readonly string[], rank: 1 | 2 | 3): PreparedKernel {
  for (const text of [source, ...functions]) {
    for (const id of [OFFSET_ARG, OUTER_ARG]) {
      if (new RegExp(`\\b${id}\\b`).test(text)) throw new ArgumentError('kernel source', `no identifier named '${id}' (the gpujs backend adds it)`, id);
    }
  }
  for (const text of [source, ...functions]) parse(name, text);
  const plain = [source, ...functions].map((text) => spellNaN(expandCompound(pairwiseMinMax(destructureThis(name, stripKeepNames(text))))));
  for (const text of plain) refuseConstructs(name, text);
  const axis = AXES[rank - 1]!;
  const readers = offsetReaders(plain, axis);
  const [kernel, ...helpers] = plain.map((text, i) => offsetText(name, text, axis, readers, i === 0));
  return { source: kernel!, functions: helpers };
}

function parse(name: string, text: string): ReturnType<typeof parseFunction> {
  try {
    return parseFunction(text);
  } catch (error) {
    throw new KernelUnsupportedError(name, `its source does not parse as a function expression (${(error as Error).message})`, error);
  }
}

/** Drops tsx's `__name(fn, "fn")` calls, outermost first, until none is left. */
function stripKeepNames(text: string): string {
  for (;;) {
    const edits: Edit[] = [];
    walk(parseFunction(text), (node, ancestors) => {
      if (!isKeepNames(node) || ancestors.some(isKeepNames)) return;
      const parent = ancestors[ancestors.length - 1]!;
      const first = (node.arguments as AnyNode[])[0]!;
      const bareName = first.type === 'Identifier';
      if (parent.type === 'ExpressionStatement' && bareName) edits.push({ start: parent.start, end: parent.end, text: '' });
      else edits.push({ start: node.start, end: node.end, text: text.slice(first.start, first.end) });
    });
    if (edits.length === 0) return text;
    text = applyEdits(text, edits);
  }
}

function isKeepNames(node: AnyNode): boolean {
  return node.type === 'CallExpression' && (node.callee as AnyNode & { name?: string }).name === '__name' && (node.arguments as AnyNode[]).length >= 1;
}

/** `const { x, y: row } = this.thread` → `const x = this.thread.x, row = this.thread.y`; other uses of a bare `this.thread` are refused. */
function destructureThis(name: string, text: string): string {
  const edits: Edit[] = [];
  walk(parse(name, text), (node, ancestors) => {
    if (!(isThisMember(node, 'thread') || isThisMember(node, 'output'))) return;
    const what = text.slice(node.start, node.end);
    const parent = ancestors[ancestors.length - 1]!;
    if (parent.type === 'MemberExpression' && parent.object === node && !parent.computed) return;
    if (parent.type === 'VariableDeclarator' && parent.init === node && (parent.id as AnyNode).type === 'ObjectPattern') {
      const parts = ((parent.id as AnyNode).properties as AnyNode[]).map((p) => {
        const key = p.key as AnyNode & { name?: string };
        const value = p.value as AnyNode & { name?: string };
        if (p.type !== 'Property' || p.computed || value.type !== 'Identifier' || !AXES.includes(key.name as 'x')) {
          throw unsupported(name, `destructuring of \`${what}\` other than \`{ x, y, z }\` or \`{ y: row }\``, p);
        }
        return `${value.name} = ${what}.${key.name}`;
      });
      edits.push({ start: parent.start, end: parent.end, text: parts.join(', ') });
      return;
    }
    throw unsupported(name, `\`${what}\` used as a value (read \`${what}.x\`, \`.y\` or \`.z\`, or destructure it)`, node);
  });
  return applyEdits(text, edits);
}

/** `Math.max(a, b, c)` → `Math.max(Math.max(a, b), c)`: WGSL's max and min take two arguments. */
function pairwiseMinMax(text: string): string {
  for (;;) {
    let edit: Edit | undefined;
    walk(parseFunction(text), (node) => {
      if (edit || node.type !== 'CallExpression') return;
      const callee = node.callee as AnyNode;
      const args = node.arguments as AnyNode[];
      if (!(callee.type === 'MemberExpression' && (callee.object as AnyNode & { name?: string }).name === 'Math')) return;
      const fname = (callee.property as AnyNode & { name?: string }).name;
      if ((fname !== 'max' && fname !== 'min') || args.length < 3) return;
      const head = `Math.${fname}(${text.slice(args[0]!.start, args[1]!.end)})`;
      edit = { start: args[0]!.start, end: args[1]!.end, text: head };
    });
    if (!edit) return text;
    text = applyEdits(text, [edit]);
  }
}

/** `x /= e` → `x = x / (e)` (and `%=`): gpu.js emits WGSL's own `/=` and `%=`, not JS's division. */
function expandCompound(text: string): string {
  const edits: Edit[] = [];
  walk(parseFunction(text), (node) => {
    if (node.type !== 'AssignmentExpression' || (node.operator !== '/=' && node.operator !== '%=')) return;
    const left = node.left as AnyNode;
    const right = node.right as AnyNode;
    if (left.type !== 'Identifier') return;
    const target = text.slice(left.start, left.end);
    edits.push({ start: node.start, end: node.end, text: `${target} = ${target} ${(node.operator as string)[0]} (${text.slice(right.start, right.end)})` });
  });
  return edits.length === 0 ? text : expandCompound(applyEdits(text, edits));
}

/** `NaN` → `(0 / 0)`: gpu.js knows no `NaN`, and the dialect's division makes 0 / 0 NaN at run time. */
function spellNaN(text: string): string {
  const edits: Edit[] = [];
  walk(parseFunction(text), (node, ancestors) => {
    const parent = ancestors[ancestors.length - 1];
    const isProperty = parent?.type === 'MemberExpression' && parent.property === node && !parent.computed;
    if (node.type === 'Identifier' && (node as AnyNode & { name: string }).name === 'NaN' && !isProperty) edits.push({ start: node.start, end: node.end, text: '(0 / 0)' });
  });
  return applyEdits(text, edits);
}

/** Names of helpers that read the outermost thread index or output size, directly or through other helpers. */
function offsetReaders(texts: readonly string[], axis: string): Set<string> {
  const reads = new Map<string, boolean>();
  const calls = new Map<string, Set<string>>();
  for (const text of texts) {
    walk(parseFunction(text), (node, ancestors) => {
      if (node.type !== 'FunctionDeclaration' && !(node.type === 'FunctionExpression' && ancestors.length === 0)) return;
      const fname = (node.id as (AnyNode & { name: string }) | null)?.name;
      if (!fname || ancestors.length === 0 && text === texts[0]) return;
      let direct = false;
      const callees = new Set<string>();
      walk(node.body as AnyNode, (inner) => {
        if (isAxisRead(inner, axis)) direct = true;
        if (inner.type === 'CallExpression' && (inner.callee as AnyNode).type === 'Identifier') callees.add((inner.callee as AnyNode & { name: string }).name);
      });
      reads.set(fname, direct);
      calls.set(fname, callees);
    });
  }
  const readers = new Set([...reads].filter(([, r]) => r).map(([n]) => n));
  for (let grew = true; grew;) {
    grew = false;
    for (const [fname, callees] of calls) {
      if (!readers.has(fname) && [...callees].some((c) => readers.has(c))) {
        readers.add(fname);
        grew = true;
      }
    }
  }
  return readers;
}

function isAxisRead(node: AnyNode, axis: string): boolean {
  if (node.type !== 'MemberExpression' || node.computed) return false;
  const object = node.object as AnyNode;
  return (isThisMember(object, 'thread') || isThisMember(object, 'output')) && (node.property as AnyNode & { name: string }).name === axis;
}

/**
 * Shifts the outermost axis in `text` (the kernel when `root`, else a helper function source) and
 * threads `tandemOffset, tandemOuter` into every function that needs them and every call of one.
 */
function offsetText(name: string, text: string, axis: string, readers: ReadonlySet<string>, root: boolean): string {
  const edits: Edit[] = [];
  const fn = parse(name, text);
  const extra = `${OFFSET_ARG}, ${OUTER_ARG}`;
  const addParams = (f: AnyNode): void => {
    const params = f.params as AnyNode[];
    if (params.length > 0) edits.push({ start: params[params.length - 1]!.end, end: params[params.length - 1]!.end, text: `, ${extra}` });
    else {
      const open = text.indexOf('(', (f.id as AnyNode | null)?.end ?? f.start);
      edits.push({ start: open + 1, end: open + 1, text: extra });
    }
  };
  if (root) addParams(fn);
  walk(fn, (node, ancestors) => {
    if (node.type === 'FunctionDeclaration' || (node.type === 'FunctionExpression' && ancestors.length === 0 && !root)) {
      const fname = (node.id as (AnyNode & { name: string }) | null)?.name;
      if (fname && readers.has(fname)) addParams(node);
    }
    if (isAxisRead(node, axis)) {
      const thread = isThisMember(node.object as AnyNode, 'thread');
      edits.push({ start: node.start, end: node.end, text: thread ? `(this.thread.${axis} + ${OFFSET_ARG})` : OUTER_ARG });
    }
    if (node.type === 'CallExpression' && (node.callee as AnyNode).type === 'Identifier' && readers.has((node.callee as AnyNode & { name: string }).name)) {
      const args = node.arguments as AnyNode[];
      edits.push({ start: node.end - 1, end: node.end - 1, text: args.length > 0 ? `, ${extra}` : extra });
    }
  });
  return applyEdits(text, edits);
}

/** Constructs WGSL can't express and gpu.js would turn into a shader that does not compile. */
function refuseConstructs(name: string, text: string): void {
  walk(parseFunction(text), (node, ancestors) => {
    if (node.type !== 'UpdateExpression') return;
    const parent = ancestors[ancestors.length - 1]!;
    const asStatement = parent.type === 'ExpressionStatement' || (parent.type === 'ForStatement' && parent.update === node);
    if (!asStatement) throw unsupported(name, `\`${text.slice(node.start, node.end)}\` inside an expression (WGSL has \`++\`/\`--\` as statements only: write it on its own line)`, node);
  });
}

function unsupported(name: string, construct: string, node: AnyNode): KernelUnsupportedError {
  return new KernelUnsupportedError(name, `${construct} at line ${lineOf(node)} of its source`);
}
