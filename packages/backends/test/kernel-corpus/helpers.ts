/** Helper functions (inner ones and the `functions` option), constants, booleans. */
import { group, values, type K } from './case.ts';
import { USER_KERNEL_TOLERANCE as T } from './tolerance.ts';

const n = 48;
const a = values(n, 51);

function square(v: number): number {
  return v * v;
}
function clampUnit(v: number): number {
  return Math.min(1, Math.max(-1, v));
}
function lerp(p: number, q: number, t: number): number {
  return p + (q - p) * t;
}
function viaOther(v: number): number {
  return square(v) + 1;
}
function threadScaled(this: any, v: number): number {
  return v * this.thread.x + this.output.x;
}

export const helpers = group('helper', (add) => {
  add('innerHelper', function (this: K, p: any) { function twice(v: number) { return 2 * v; } return twice(p[this.thread.x]); }, [a], [n], { tol: T.exact });
  add('innerTwoArgs', function (this: K, p: any) { function mix(u: number, v: number) { return u * 0.25 + v; } return mix(p[this.thread.x], this.thread.x); }, [a], [n]);
  add('innerReadsThread', function (this: K, p: any) {
    function at(this: any) { return this.thread.x * 2 + this.output.x; }
    return p[this.thread.x] + at();
  }, [a], [n], { ref: (x) => Math.fround(a[x]!) + x * 2 + n });
  add('innerCallsInner', function (this: K, p: any) {
    function one(v: number) { return v + 1; }
    function two(v: number) { return one(v) * 2; }
    return two(p[this.thread.x]);
  }, [a], [n]);
  add('functionsOption', function (this: K, p: any) { return square(p[this.thread.x]); }, [a], [n], { functions: [square] });
  add('functionsClamp', function (this: K, p: any) { return clampUnit(p[this.thread.x]); }, [a], [n], { tol: T.exact, functions: [clampUnit] });
  add('functionsThreeArgs', function (this: K, p: any) { return lerp(p[this.thread.x], 10, 0.25); }, [a], [n], { functions: [lerp] });
  add('functionsChain', function (this: K, p: any) { return viaOther(p[this.thread.x]); }, [a], [n], { functions: [viaOther, square] });
  add('functionsReadThis', function (this: K, p: any) { return threadScaled(p[this.thread.x]); }, [a], [n], {
    functions: [threadScaled], ref: (x) => Math.fround(a[x]!) * x + n,
  });
  add('helperArrayArgument', function (this: K, p: any) { function first(v: any) { return v[0]; } return first(p) + this.thread.x; }, [a], [n], {
    tol: T.exact, refused: { gpujs: /array arguments to helper functions/ },
  });
  add('numberConstant', function (this: K, p: any) { return p[this.thread.x] * this.constants.scale; }, [a], [n], { constants: { scale: 0.125 } });
  add('booleanConstant', function (this: K) { return this.constants.on ? 1 : 2; }, [], [n], { tol: T.exact, constants: { on: true } });
  add('arrayConstant', function (this: K) { return this.constants.w[this.thread.x % 4]; }, [], [n], { tol: T.exact, constants: { w: [1.5, -2, 3, 0.25] } });
  add('booleanArgument', function (this: K, p: any, neg: boolean) { return neg ? -p[this.thread.x] : p[this.thread.x]; }, [a, true], [n], { tol: T.exact });
  add('booleanArgumentFalse', function (this: K, p: any, neg: boolean) { return neg ? -p[this.thread.x] : p[this.thread.x]; }, [a, false], [n], { tol: T.exact });
  add('destructureThread', function (this: K) { const { x, y } = this.thread; return y * 100 + x; }, [], [9, 8], { tol: T.exact });
  add('destructureRenamed', function (this: K) { const { x: col, y: row } = this.thread; return row - col; }, [], [9, 8], { tol: T.exact });
  add('destructureOutput', function (this: K) { const { x, y } = this.output; return x * y + this.thread.y; }, [], [9, 8], { tol: T.exact });
  add('incrementInExpression', function (this: K) { let i = this.thread.x; const j = i++; return i + j; }, [], [n], {
    tol: T.exact, refused: { gpujs: /`i\+\+` inside an expression .* at line \d+/ },
  });
  add('arrayLocal', function (this: K) { const w = [1.5, 2.5, 3.5]; return w[this.thread.x % 3]!; }, [], [n], { tol: T.exact });
  add('returnBoolean', function (this: K) { return (this.thread.x > 3) as unknown as number; }, [], [n], {
    tol: T.exact, ref: (x) => (x > 3 ? 1 : 0), refused: { gpujs: /returning Boolean/ },
  });
  add('stringLiteral', function (this: K) { const s = 'abc'; return s.length + this.thread.x; }, [], [n], {
    tol: T.exact, refused: { gpujs: /Non-numeric literal not supported : abc on line \d+/ },
  });
  add('decrementInExpression', function (this: K) { let i = this.thread.x; return 2 * --i; }, [], [n], {
    tol: T.exact, refused: { gpujs: /`--i` inside an expression .* at line \d+/ },
  });
});
