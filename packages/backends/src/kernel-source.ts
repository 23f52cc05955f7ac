/**
 * A user kernel's source as a syntax tree, for the rewrites each backend makes before running it:
 * positions index the source text itself, so a rewrite is a list of text edits and a refusal can
 * name the line the user wrote.
 */
import { parseExpressionAt, type Node } from 'acorn';

/** Any ESTree node, its children reachable by key. */
export type AnyNode = Node & { readonly [key: string]: unknown };

/** One replacement of `source.slice(start, end)` by `text`. */
export interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * Parses a `function (...) { ... }` expression, as `fn.toString()` gives it.
 *
 * @example
 * ```ts
 * parseFunction('function (a) { return a[this.thread.x]; }').params.length; // 1
 * ```
 */
export function parseFunction(source: string): AnyNode & { params: AnyNode[]; body: AnyNode; id?: AnyNode | null } {
  const node = parseExpressionAt(source, 0, { ecmaVersion: 'latest', locations: true }) as unknown as AnyNode;
  if (node.type !== 'FunctionExpression') throw new SyntaxError(`expected a function expression, found ${node.type}`);
  return node as AnyNode & { params: AnyNode[]; body: AnyNode };
}

/** Calls `visit` on `node` and every node below it, parents first, with the chain of ancestors. */
export function walk(node: AnyNode, visit: (node: AnyNode, ancestors: readonly AnyNode[]) => void, ancestors: AnyNode[] = []): void {
  visit(node, ancestors);
  ancestors.push(node);
  for (const [key, value] of Object.entries(node)) {
    if (key === 'loc') continue;
    if (Array.isArray(value)) {
      for (const child of value) if (isNode(child)) walk(child, visit, ancestors);
    } else if (isNode(value)) {
      walk(value, visit, ancestors);
    }
  }
  ancestors.pop();
}

function isNode(v: unknown): v is AnyNode {
  return typeof v === 'object' && v !== null && typeof (v as AnyNode).type === 'string' && typeof (v as AnyNode).start === 'number';
}

/** `source` with the edits applied; edits must not overlap. */
export function applyEdits(source: string, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let out = source;
  for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** The 1-based line of `node` in the source it was parsed from. */
export function lineOf(node: AnyNode): number {
  return node.loc?.start.line ?? 1;
}

/** Whether `node` is `this.<name>` (`this.thread`, `this.output`, `this.constants`). */
export function isThisMember(node: AnyNode, name?: string): boolean {
  if (node.type !== 'MemberExpression' || (node.object as AnyNode).type !== 'ThisExpression' || node.computed) return false;
  return name === undefined || (node.property as AnyNode & { name?: string }).name === name;
}
