/** NaN, ±Infinity, -0 and denormals through arithmetic, Math and returns; a multi-dispatch output. */
import { group, type K } from './case.ts';
import { USER_KERNEL_TOLERANCE as T } from './tolerance.ts';

const specials = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2.5, 1e-40, -1e-40, 3.4e38, -3.4e38];
const n = specials.length;

export const ieee = group('ieee', (add) => {
  add('returnInfinity', function () { return Infinity; }, [], [3], { tol: T.exact });
  add('returnNegInfinity', function () { return -Infinity; }, [], [3], { tol: T.exact });
  add('returnNaN', function (this: K) { return this.thread.x === 1 ? NaN : this.thread.x; }, [], [3], { tol: T.exact });
  add('infinityArithmetic', function (this: K) { return this.thread.x - Infinity; }, [], [3], { tol: T.exact });
  add('passThrough', function (this: K, a: any) { return a[this.thread.x]; }, [specials], [n], { tol: T.denormal, signedZero: true });
  add('addOne', function (this: K, a: any) { return a[this.thread.x] + 1; }, [specials], [n], { tol: T.denormal });
  add('mulTwo', function (this: K, a: any) { return a[this.thread.x] * 2; }, [specials], [n], { tol: T.denormal });
  add('divByZeroLiteral', function (this: K, a: any) { return a[this.thread.x] / 0; }, [specials], [n], { tol: T.denormal });
  add('divByArgument', function (this: K, a: any, z: number) { return a[this.thread.x] / z; }, [specials, 0], [n], { tol: T.denormal });
  add('zeroDivNegZero', function (this: K, a: any) { return 1 / a[this.thread.x]; }, [[0, -0, Infinity, -Infinity]], [4], { tol: T.exact, signedZero: true });
  add('infMinusInf', function (this: K, a: any) { return a[this.thread.x] - a[this.thread.x]; }, [specials], [n], {
    tol: T.denormal, documented: { gpujs: { note: 'x - x is 0 even for NaN and ±Infinity', ref: () => 0 } },
  });
  add('infMinusInfTwoArrays', function (this: K, a: any, b: any) { return a[this.thread.x] - b[this.thread.x]; }, [specials, specials], [n], { tol: T.denormal });
  add('overflow', function (this: K, a: any) { return a[this.thread.x] * 1e30; }, [specials], [n], { tol: T.denormal });
  add('sqrtNegative', function (this: K, a: any) { return Math.sqrt(a[this.thread.x]); }, [specials], [n], { tol: T.denormal });
  add('logSpecials', function (this: K, a: any) { return Math.log(a[this.thread.x]); }, [[0, -1, Infinity, 1, NaN]], [5], { tol: T.transcendental });
  add('expSpecials', function (this: K, a: any) { return Math.exp(a[this.thread.x]); }, [[-Infinity, Infinity, 100, -100, NaN]], [5], { tol: T.transcendental });
  add('absSpecials', function (this: K, a: any) { return Math.abs(a[this.thread.x]); }, [specials], [n], { tol: T.denormal, signedZero: true });
  add('floorSpecials', function (this: K, a: any) { return Math.floor(a[this.thread.x]); }, [specials], [n], { tol: T.denormal });
  add('negZeroLiteral', function (this: K) { return -0 * (this.thread.x + 1); }, [], [3], {
    tol: T.exact, signedZero: true, documented: { gpujs: { note: 'arithmetic may lose the sign of a zero', ref: () => 0 } },
  });
  add('maxNaN', function (this: K, a: any) { return Math.max(a[this.thread.x], 0); }, [specials], [n], { tol: T.denormal });
  add('minNaN', function (this: K, a: any) { return Math.min(a[this.thread.x], 0); }, [specials], [n], { tol: T.denormal });
  add('selfCompareNaN', function (this: K, a: any) { return a[this.thread.x] !== a[this.thread.x] ? 1 : 0; }, [specials], [n], { tol: T.exact });
  add('isNaNByCompare', function (this: K, a: any) { return a[this.thread.x] < 0 || a[this.thread.x] >= 0 ? 0 : 1; }, [specials], [n], { tol: T.exact });
  add('modByZero', function (this: K, a: any) { return a[this.thread.x] % 0; }, [specials], [n], { tol: T.denormal });
  add('modByInfinity', function (this: K, a: any) { return a[this.thread.x] % Infinity; }, [specials], [n], { tol: T.denormal });
  add('modOfSpecials', function (this: K, a: any) { return a[this.thread.x] % 3; }, [specials], [n], { tol: T.denormal });
  add('powSpecials', function (this: K, a: any, b: any) { return Math.pow(a[this.thread.x], b[this.thread.x]); }, [[0, 0, -8, 2, Infinity, NaN, 1, -2], [-1, 0.5, 1 / 3, -Infinity, 0, 0, NaN, 2]], [8], { tol: T.transcendental });
  add('atan2Infinities', function (this: K, a: any, b: any) { return Math.atan2(a[this.thread.x], b[this.thread.x]); }, [[Infinity, Infinity, -Infinity, 1, -1, NaN], [Infinity, -Infinity, 1, Infinity, -Infinity, 1]], [6], { tol: T.inverseTrig });
  add('roundSpecials', function (this: K, a: any) { return Math.round(a[this.thread.x]); }, [specials], [n], { tol: T.denormal });
  add('signSpecials', function (this: K, a: any) { return Math.sign(a[this.thread.x]); }, [specials], [n], { tol: T.exact });
  add('truncSpecials', function (this: K, a: any) { return Math.trunc(a[this.thread.x]); }, [specials], [n], { tol: T.denormal });
  add('minMaxInfinity', function (this: K, a: any) { return Math.max(a[this.thread.x], -Infinity) + Math.min(a[this.thread.x], Infinity); }, [specials], [n], { tol: T.denormal });
  add('divAssignZero', function (this: K, a: any) { let v = a[this.thread.x]; v /= 0; return v; }, [specials], [n], { tol: T.denormal });
  add('modAssignSpecials', function (this: K, a: any) { let v = a[this.thread.x]; v %= 3; return v; }, [specials], [n], { tol: T.denormal });
  add('powNegativeBase', function (this: K, a: any) { return Math.pow(a[this.thread.x], 3) + Math.pow(a[this.thread.x], 2); }, [[-2, -1.5, -0.5, 0.5, 2]], [5], { tol: T.transcendental });
  add('exponentOperator', function (this: K, a: any) { return a[this.thread.x] ** 2; }, [[-3, -0.5, 0, 1.5, 4]], [5], { tol: T.transcendental });
  add('denormalMath', function (this: K, a: any) { return a[this.thread.x] * 1e-10; }, [[1e-30, 1e-35, -1e-30, 1]], [4], { tol: T.denormal });
});

/** Needs several dispatches on the gpujs backend (runner.ts: a dispatch writes at most maxStorageBufferBindingSize). */
export const large = group('large', (add) => {
  add('manyDispatches', function (this: K) { const { x, y } = this.thread; return (y % 1000) * 4096 + x; }, [], [4096, 8200], { tol: T.exact });
});
