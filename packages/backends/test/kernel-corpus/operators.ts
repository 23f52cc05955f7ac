/** Arithmetic, comparison, logical, bitwise and assignment operators, and their precedence. */
import { group, values, type K } from './case.ts';
import { USER_KERNEL_TOLERANCE as T } from './tolerance.ts';

const n = 97;
const a = values(n, 1);
const b = values(n, 2, 0.5, 4);
const ints = values(n, 3, -50, 50).map(Math.round);

export const operators = group('op', (add) => {
  add('add', function (this: K, p: any, q: any) { return p[this.thread.x] + q[this.thread.x]; }, [a, b], [n]);
  add('sub', function (this: K, p: any, q: any) { return p[this.thread.x] - q[this.thread.x]; }, [a, b], [n]);
  add('mul', function (this: K, p: any, q: any) { return p[this.thread.x] * q[this.thread.x]; }, [a, b], [n]);
  add('div', function (this: K, p: any, q: any) { return p[this.thread.x] / q[this.thread.x]; }, [a, b], [n]);
  add('mod', function (this: K, p: any, q: any) { return p[this.thread.x] % q[this.thread.x]; }, [a, b], [n], { tol: T.transcendental });
  add('negate', function (this: K, p: any) { return -p[this.thread.x]; }, [a], [n], { tol: T.exact });
  add('unaryPlus', function (this: K, p: any) { return +p[this.thread.x]; }, [a], [n], { tol: T.exact });
  add('precedence', function (this: K, p: any, q: any) { return p[this.thread.x] + q[this.thread.x] * 2 - 1 / q[this.thread.x]; }, [a, b], [n]);
  add('parens', function (this: K, p: any, q: any) { return (p[this.thread.x] + q[this.thread.x]) * (2 - p[this.thread.x]); }, [a, b], [n]);
  add('lt', function (this: K, p: any, q: any) { return p[this.thread.x] < q[this.thread.x] ? 1 : 0; }, [a, b], [n], { tol: T.exact });
  add('le', function (this: K, p: any) { return p[this.thread.x] <= 0 ? 1 : 0; }, [a], [n], { tol: T.exact });
  add('gt', function (this: K, p: any, q: any) { return p[this.thread.x] > q[this.thread.x] ? 1 : 0; }, [a, b], [n], { tol: T.exact });
  add('ge', function (this: K, p: any) { return p[this.thread.x] >= 1 ? 1 : 0; }, [a], [n], { tol: T.exact });
  add('strictEq', function (this: K, p: any) { return p[this.thread.x] === 3 ? 1 : 0; }, [ints.map((v) => v % 5)], [n], { tol: T.exact });
  add('strictNe', function (this: K, p: any) { return p[this.thread.x] !== 3 ? 1 : 0; }, [ints.map((v) => v % 5)], [n], { tol: T.exact });
  add('looseEq', function (this: K, p: any) { return p[this.thread.x] == 2 ? 1 : 0; }, [ints.map((v) => v % 5)], [n], { tol: T.exact });
  add('looseNe', function (this: K, p: any) { return p[this.thread.x] != 2 ? 1 : 0; }, [ints.map((v) => v % 5)], [n], { tol: T.exact });
  add('and', function (this: K, p: any, q: any) { return p[this.thread.x] > 0 && q[this.thread.x] > 2 ? 1 : 0; }, [a, b], [n], { tol: T.exact });
  add('or', function (this: K, p: any, q: any) { return p[this.thread.x] > 2 || q[this.thread.x] < 1 ? 1 : 0; }, [a, b], [n], { tol: T.exact });
  add('not', function (this: K, p: any) { return !(p[this.thread.x] > 0) ? 1 : 0; }, [a], [n], { tol: T.exact });
  add('bitAnd', function (this: K, p: any) { return p[this.thread.x] & 7; }, [ints.map(Math.abs)], [n], { tol: T.exact });
  add('bitOr', function (this: K, p: any) { return p[this.thread.x] | 8; }, [ints.map(Math.abs)], [n], { tol: T.exact });
  add('bitXor', function (this: K, p: any) { return p[this.thread.x] ^ 5; }, [ints.map(Math.abs)], [n], { tol: T.exact });
  add('shiftLeft', function (this: K, p: any) { return p[this.thread.x] << 2; }, [ints.map(Math.abs)], [n], { tol: T.exact });
  add('shiftRight', function (this: K, p: any) { return p[this.thread.x] >> 1; }, [ints], [n], { tol: T.exact });
  add('addAssign', function (this: K, p: any) { let s = 1; s += p[this.thread.x]; s -= 0.5; return s; }, [a], [n]);
  add('mulAssign', function (this: K, p: any) { let s = 2; s *= p[this.thread.x]; s /= 4; return s; }, [a], [n]);
  add('modAssign', function (this: K, p: any) { let s = 10.5; s %= p[this.thread.x]; return s; }, [b], [n], { tol: T.transcendental });
  add('threadMath', function (this: K) { return this.thread.x * 3 + 1; }, [], [n], { tol: T.exact });
  add('intDivision', function (this: K) { return this.thread.x / 4; }, [], [n], { tol: T.exact });
  add('intMod', function (this: K) { return this.thread.x % 7; }, [], [n], { tol: T.exact });
  add('mixedIntFloat', function (this: K, p: any) { return this.thread.x * 0.5 + p[this.thread.x]; }, [a], [n]);
  add('scalarArg', function (this: K, p: any, s: number) { return p[this.thread.x] * s; }, [a, 2.5], [n]);
  add('negativeLiteral', function (this: K, p: any) { return p[this.thread.x] - -3; }, [a], [n]);
  add('chainedTernary', function (this: K, p: any) { const v = p[this.thread.x]; return v < -2 ? -1 : v < 2 ? 0 : 1; }, [a], [n], { tol: T.exact });
  add('ternaryMixed', function (this: K, p: any) { return p[this.thread.x] > 0 ? this.thread.x : 0.5; }, [a], [n], { tol: T.exact });
});
