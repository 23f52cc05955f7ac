/**
 * Where gpu.js's WGSL would differ from the same kernel run as JS, this backend patches the
 * translation, once per thread, before any kernel is built:
 * - loops run to their own bound, as JS does: gpu.js caps every loop whose bound is not a literal
 *   at `loopMaxIterations` (1000) and its capped `for` skips the update on `continue`;
 * - `x++` / `x--` statements on a float (a `let` that is not a for-loop counter) become
 *   `x = x + 1.0`: WGSL has increments for integers only;
 * - `Infinity` is IEEE infinity, not the largest finite f32;
 * - `a / b` with `b` zero gives ±Infinity or NaN as in JS (lavapipe gives 0);
 * - `Math.asin` and `Math.acos` go through `atan2` (lavapipe's are ~2e-4 off), and `Math.atan2`
 *   of a zero `y` follows JS (lavapipe's `atan2(0, 0)` is 3π/4);
 * - `Math.round(0.49999997)` is 0, as in JS; `a % b` is exact, as fmod is; `Math.pow` and
 *   `Math.sign` follow JS at zeros, infinities, NaN and negative bases;
 * - `Math.max`/`Math.min` return NaN when an argument is NaN, and `==`/`!=` on floats treat NaN as
 *   JS does (lavapipe folds `v != v` to false: it compiles as if NaN could not occur);
 * - a `-0` literal stays negative, and a `for` loop may start with an assignment (`for (i = 0; ...)`).
 * The helpers it calls are appended to the module only when used. The patches apply only while
 * {@link withUserDialect} translates a user kernel; built-in programs translate as gpu.js writes them.
 */
import type { GpuJs } from './gpujs-api.ts';

type Emit = (this: FunctionNodeThis, ast: AstNode, retArr: string[]) => string[];

interface AstNode {
  readonly type: string;
  readonly [key: string]: unknown;
}

interface FunctionNodeThis {
  astGeneric(ast: unknown, retArr: string[]): string[];
  getType(ast: unknown): string | null;
  pushState(state: string): void;
  popState(state: string): void;
  castValueToFloat(ast: unknown, retArr: string[]): string[];
  castLiteralToFloat(ast: unknown, retArr: string[]): string[];
}

interface Patchable {
  readonly WGSLFunctionNode: { prototype: Record<string, unknown> };
  readonly WebGPUKernel: { prototype: Record<string, unknown> };
}

const PATCHED = '__tandemWgslDialect';
let active = false;

/**
 * Runs `build` (a first call of a gpu.js kernel, which translates it synchronously) with the
 * patched translation when `user` is set.
 *
 * @example
 * ```ts
 * const result = withUserDialect(true, () => shortcut(...args));
 * ```
 */
export function withUserDialect<T>(user: boolean, build: () => T): T {
  const before = active;
  active = user;
  try {
    return build();
  } finally {
    active = before;
  }
}

/** `patched` while a user kernel translates, `original` otherwise. */
function gated<F extends (this: never, ...args: never[]) => unknown>(original: F, patched: F): F {
  return function (this: never, ...args: never[]) {
    return (active ? patched : original).apply(this, args);
  } as F;
}

// Non-constant zero bits: WGSL rejects a constant expression that evaluates to Inf or NaN. Tests
// look at bits: lavapipe compiles float comparisons as if NaN could not occur.
const HELPERS: Record<string, string> = {
  tandem_inf: 'fn tandem_inf() -> f32 {\n  return bitcast<f32>(0x7f800000u | tandem_bits);\n}',
  tandem_nan: 'fn tandem_nan() -> f32 {\n  return bitcast<f32>(0x7fc00000u | tandem_bits);\n}',
  tandem_div: [
    'fn tandem_div(a : f32, b : f32) -> f32 {',
    '  if ((bitcast<u32>(b) & 0x7fffffffu) != 0u) { return a / b; }',
    '  let ma = bitcast<u32>(a) & 0x7fffffffu;',
    '  if (ma == 0u || ma > 0x7f800000u) { return tandem_nan(); }',
    '  return bitcast<f32>(((bitcast<u32>(a) ^ bitcast<u32>(b)) & 0x80000000u) | 0x7f800000u | tandem_bits);',
    '}',
  ].join('\n'),
  tandem_sign: 'fn tandem_sign(x : f32) -> f32 {\n  if (tandem_isnan(x)) { return x; }\n  return sign(x);\n}',
  // JS's %: exact (each step subtracts a power-of-two multiple of |b| no larger than the rest, which
  // Sterbenz's lemma makes exact); NaN for x % 0 and ±Inf % y; x % ±Inf is x.
  tandem_mod: [
    'fn tandem_mod(a : f32, b : f32) -> f32 {',
    '  let ua = bitcast<u32>(a) & 0x7fffffffu;',
    '  let ub = bitcast<u32>(b) & 0x7fffffffu;',
    '  if (ua >= 0x7f800000u || ub > 0x7f800000u || ub == 0u) { return tandem_nan(); }',
    '  if (ub == 0x7f800000u) { return a; }',
    '  if (ub < 0x00800000u) { return a % b; }',
    '  var r = bitcast<f32>(ua);',
    '  let d = bitcast<f32>(ub);',
    '  loop {',
    '    if (r < d) { break; }',
    '    var t = ldexp(d, frexp(r).exp - frexp(d).exp);',
    '    if (t > r) { t = t * 0.5; }',
    '    r = r - t;',
    '  }',
    '  return bitcast<f32>((bitcast<u32>(a) & 0x80000000u) | bitcast<u32>(r));',
    '}',
  ].join('\n'),
  tandem_isnan: 'fn tandem_isnan(x : f32) -> bool {\n  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;\n}',
  tandem_eq: 'fn tandem_eq(a : f32, b : f32) -> bool {\n  return !tandem_isnan(a) && !tandem_isnan(b) && a == b;\n}',
  tandem_max: 'fn tandem_max(a : f32, b : f32) -> f32 {\n  if (tandem_isnan(a) || tandem_isnan(b)) { return tandem_nan(); }\n  return max(a, b);\n}',
  tandem_min: 'fn tandem_min(a : f32, b : f32) -> f32 {\n  if (tandem_isnan(a) || tandem_isnan(b)) { return tandem_nan(); }\n  return min(a, b);\n}',
  tandem_atan2: [
    'fn tandem_atan2(y : f32, x : f32) -> f32 {',
    '  if ((bitcast<u32>(y) & 0x7fffffffu) != 0u) { return atan2(y, x); }',
    '  if ((bitcast<u32>(x) & 0x80000000u) == 0u) { return y; }',
    '  return bitcast<f32>((bitcast<u32>(y) & 0x80000000u) | 0x40490fdbu);',
    '}',
  ].join('\n'),
  tandem_asin: 'fn tandem_asin(x : f32) -> f32 {\n  return atan2(x, sqrt((1.0 - x) * (1.0 + x)));\n}',
  tandem_acos: 'fn tandem_acos(x : f32) -> f32 {\n  return atan2(sqrt((1.0 - x) * (1.0 + x)), x);\n}',
};
// gpu.js's Math.round, floor(x + 0.5), rounds 0.49999997 up: x + 0.5 rounds to 1 in f32.
const ROUND = 'fn _round(x : f32) -> f32 {\n  return floor(x + 0.5);\n}';
const ROUND_HALF_UP = 'fn _round(x : f32) -> f32 {\n  let f = floor(x);\n  return select(f, f + 1.0, x - f >= 0.5);\n}';
// gpu.js's Math.pow is WGSL's pow, undefined for a negative base and wrong at zero and infinities.
const POW = 'fn _pow(v1 : f32, v2 : f32) -> f32 {\n  if (v2 == 0.0) { return 1.0; }\n  return pow(v1, v2);\n}';
const POW_JS = [
  'fn _pow(x : f32, y : f32) -> f32 {',
  '  let uy = bitcast<u32>(y) & 0x7fffffffu;',
  '  if (uy == 0u) { return 1.0; }',
  '  if (tandem_isnan(x) || uy > 0x7f800000u) { return tandem_nan(); }',
  '  let ax = abs(x);',
  '  let negative = (bitcast<u32>(x) & 0x80000000u) != 0u;',
  '  if (uy == 0x7f800000u) {',
  '    if (ax == 1.0) { return tandem_nan(); }',
  '    if ((ax > 1.0) == (y > 0.0)) { return tandem_inf(); }',
  '    return 0.0;',
  '  }',
  '  let integer = trunc(y) == y;',
  '  let odd = integer && abs(y) < 16777216.0 && (i32(abs(y)) & 1) == 1;',
  '  let ux = bitcast<u32>(x) & 0x7fffffffu;',
  '  if (ux == 0u || ux == 0x7f800000u) {',
  '    let big = (ux == 0u) != (y > 0.0);',
  '    let magnitude = select(0.0, tandem_inf(), big);',
  '    return select(magnitude, -magnitude, negative && odd);',
  '  }',
  '  if (negative) {',
  '    if (!integer) { return tandem_nan(); }',
  '    let r = pow(ax, y);',
  '    return select(r, -r, odd);',
  '  }',
  '  return pow(x, y);',
  '}',
].join('\n');
const HELPER_DEPENDS: Record<string, readonly string[]> = {
  tandem_div: ['tandem_nan'],
  tandem_eq: ['tandem_isnan'],
  tandem_sign: ['tandem_isnan'],
  tandem_mod: ['tandem_nan'],
  tandem_max: ['tandem_isnan', 'tandem_nan'],
  tandem_min: ['tandem_isnan', 'tandem_nan'],
};
const EQUALITY: Record<string, string> = { '===': '', '==': '', '!==': '!', '!=': '!' };
const FLOAT_TYPES = new Set(['Number', 'Float']);

/**
 * Installs the patches on this thread's gpu.js (idempotent).
 *
 * @example
 * ```ts
 * patchWgslDialect(await import('gpu.js'));
 * ```
 */
export function patchWgslDialect(gpujs: GpuJs): void {
  const { WGSLFunctionNode, WebGPUKernel } = gpujs as unknown as Patchable;
  const node = WGSLFunctionNode.prototype;
  if (node[PATCHED]) return;
  node[PATCHED] = true;
  node.astForStatement = gated(node.astForStatement as Emit, forStatement);
  node.astWhileStatement = gated(node.astWhileStatement as Emit, whileStatement);
  node.astDoWhileStatement = gated(node.astDoWhileStatement as Emit, doWhileStatement);
  const update = node.astUpdateExpression as Emit;
  node.astUpdateExpression = gated(update, function (this: FunctionNodeThis, ast: AstNode, retArr: string[]) {
    const t = this.getType(ast.argument);
    if (t === 'Integer') return update.call(this, ast, retArr);
    const target = this.astGeneric(ast.argument, []).join('');
    retArr.push(`${target} = ${target} ${ast.operator === '++' ? '+' : '-'} 1.0`);
    return retArr;
  });
  const identifier = node.astIdentifierExpression as Emit;
  node.astIdentifierExpression = gated(identifier, function (this: FunctionNodeThis, ast: AstNode, retArr: string[]) {
    if (ast.name === 'Infinity') {
      retArr.push('tandem_inf()');
      return retArr;
    }
    return identifier.call(this, ast, retArr);
  });
  const float = node.wgslFloat as (this: unknown, value: number) => string;
  node.wgslFloat = gated(float, function (this: unknown, value: number) {
    if (value === Infinity) return 'tandem_inf()';
    if (value === -Infinity) return '(-tandem_inf())';
    if (Number.isNaN(value)) return 'tandem_nan()';
    if (Object.is(value, -0)) return '(-0.0)';
    return float.call(this, value);
  });
  const binary = node.astBinaryExpression as Emit;
  node.astBinaryExpression = gated(binary, function (this: FunctionNodeThis, ast: AstNode, retArr: string[]) {
    const negate = EQUALITY[ast.operator as string];
    if (negate !== undefined) {
      const types = [this.getType(ast.left), this.getType(ast.right)];
      if (!types.some((t) => FLOAT_TYPES.has(t ?? '')) || types.includes('Boolean')) return binary.call(this, ast, retArr);
      retArr.push(`${negate}tandem_eq(`);
    } else if (ast.operator === '/' || ast.operator === '%') {
      retArr.push(ast.operator === '/' ? 'tandem_div(' : 'tandem_mod(');
    } else {
      return binary.call(this, ast, retArr);
    }
    this.pushState('building-float');
    floatOperand(this, ast.left, retArr);
    retArr.push(', ');
    floatOperand(this, ast.right, retArr);
    this.popState('building-float');
    retArr.push(')');
    return retArr;
  });
  const kernel = WebGPUKernel.prototype;
  const assemble = kernel.assembleWGSL as (this: unknown) => string;
  kernel.assembleWGSL = gated(assemble, function (this: unknown) {
    const wgsl = assemble.call(this).replace(/\b(asin|acos|atan2|max|min|sign)\(/g, 'tandem_$1(').replace(ROUND, ROUND_HALF_UP).replace(POW, POW_JS);
    const used = new Set(Object.keys(HELPERS).filter((h) => new RegExp(`\\b${h}\\(`).test(wgsl)));
    for (const h of [...used]) for (const d of HELPER_DEPENDS[h] ?? []) used.add(d);
    if (used.size === 0) return wgsl;
    return [wgsl, 'var<private> tandem_bits : u32;', ...[...used].map((h) => HELPERS[h])].join('\n');
  });
}

function floatOperand(self: FunctionNodeThis, ast: unknown, retArr: string[]): void {
  switch (self.getType(ast)) {
    case 'Integer':
      self.castValueToFloat(ast, retArr);
      break;
    case 'LiteralInteger':
      self.castLiteralToFloat(ast, retArr);
      break;
    default:
      self.astGeneric(ast, retArr);
  }
}

/** `for` as WGSL writes it, in a block of its own so each loop's `let i` is its own. */
function forStatement(this: FunctionNodeThis, ast: AstNode, retArr: string[]): string[] {
  const init: string[] = [];
  const test: string[] = [];
  const update: string[] = [];
  const body: string[] = [];
  if (ast.init) {
    if ((ast.init as AstNode).type === 'AssignmentExpression') this.pushState('assignment-as-statement');
    this.astGeneric(ast.init, init);
  }
  if (ast.test) this.astGeneric(ast.test, test);
  if (ast.update) {
    if ((ast.update as AstNode).type === 'AssignmentExpression') this.pushState('assignment-as-statement');
    this.astGeneric(ast.update, update);
  }
  if (ast.body) {
    this.pushState('loop-body');
    this.astGeneric(ast.body, body);
    this.popState('loop-body');
  }
  const initText = init.join('');
  const semicolon = initText === '' || initText.trimEnd().endsWith(';') ? '' : ';';
  retArr.push(`{\n${initText}${semicolon}\nfor (;${test.join('')};${update.join('')}){\n`, body.join(''), '}\n}\n');
  return retArr;
}

function whileStatement(this: FunctionNodeThis, ast: AstNode, retArr: string[]): string[] {
  retArr.push('while (');
  this.astGeneric(ast.test, retArr);
  retArr.push(') {\n');
  this.astGeneric(ast.body, retArr);
  retArr.push('}\n');
  return retArr;
}

/** `continue` in a do-while jumps to its test: exactly WGSL's `continuing` block. */
function doWhileStatement(this: FunctionNodeThis, ast: AstNode, retArr: string[]): string[] {
  retArr.push('loop {\n');
  this.astGeneric(ast.body, retArr);
  retArr.push('\ncontinuing {\nbreak if !(');
  this.astGeneric(ast.test, retArr);
  retArr.push(');\n}\n}\n');
  return retArr;
}
