/** Loops of every kind and bound, break/continue, branches, switch and ternaries. */
import { group, values, type K } from './case.ts';
import { USER_KERNEL_TOLERANCE as T } from './tolerance.ts';

const n = 64;
const a = values(n, 21, -3, 3);
const counts = values(n, 22, 0, 40).map(Math.floor);

export const loops = group('loop', (add) => {
  add('literalBound', function (this: K) { let s = 0; for (let i = 0; i < 10; i++) { s += i * this.thread.x; } return s; }, [], [n], { tol: T.exact });
  add('argumentBound', function (this: K, m: number) { let s = 0; for (let i = 0; i < m; i++) { s += 1; } return s + this.thread.x; }, [3000], [n], { tol: T.exact });
  add('constantBound', function (this: K) { let s = 0; for (let i = 0; i < this.constants.n; i++) { s += i; } return s + this.thread.x; }, [], [n], { tol: T.exact, constants: { n: 1500 } });
  add('dataBound', function (this: K, c: any) { let s = 0; for (let i = 0; i < c[this.thread.x]; i++) { s += 2; } return s; }, [counts], [n], { tol: T.exact });
  add('threadBound', function (this: K) { let s = 0; for (let i = 0; i <= this.thread.x; i++) { s += i; } return s; }, [], [n], { tol: T.exact });
  add('outputBound', function (this: K, p: any) { let s = 0; for (let i = 0; i < this.output.x; i++) { s += p[i]; } return s; }, [a], [n], { tol: T.accumulated(n) });
  add('countDown', function (this: K) { let s = 0; for (let i = 20; i > 0; i--) { s += i; } return s + this.thread.x; }, [], [n], { tol: T.exact });
  add('stepTwo', function (this: K, m: number) { let s = 0; for (let i = 0; i < m; i += 2) { s += 1; } return s * this.thread.x; }, [2501], [n], { tol: T.exact });
  add('floatCounter', function (this: K) { let s = 0; for (let t = 0.5; t < 5; t += 0.5) { s += t; } return s + this.thread.x; }, [], [n], { tol: T.exact });
  add('nested', function (this: K, m: number) { let s = 0; for (let i = 0; i < m; i++) { for (let j = 0; j < i; j++) { s += 1; } } return s + this.thread.x; }, [60], [n], { tol: T.exact });
  add('break', function (this: K, p: any) { let i = 0; for (i = 0; i < 5000; i++) { if (i * 0.01 > p[this.thread.x] + 3) break; } return i; }, [a], [n], { tol: T.exact });
  add('continue', function (this: K, m: number) { let s = 0; for (let i = 0; i < m; i++) { if (i % 3 === 0) continue; s += i; } return s + this.thread.x; }, [1200], [n], { tol: T.exact });
  add('continueLiteral', function (this: K) { let s = 0; for (let i = 0; i < 30; i++) { if (i % 2 === 0) { continue; } s += i; } return s + this.thread.x; }, [], [n], { tol: T.exact });
  add('while', function (this: K, p: any) { let v = Math.abs(p[this.thread.x]) + 1; let k = 0; while (v < 5000) { v *= 1.5; k++; } return k; }, [a], [n], { tol: T.exact });
  add('whileLong', function (this: K, m: number) { let k = 0; while (k < m) { k += 1; } return k + this.thread.x; }, [4321], [n], { tol: T.exact });
  add('whileBreak', function (this: K) { let k = 0; while (true) { k++; if (k >= 1234 + this.thread.x) break; } return k; }, [], [n], { tol: T.exact });
  add('doWhile', function (this: K, c: any) { let k = 0; do { k++; } while (k < c[this.thread.x]); return k; }, [counts], [n], { tol: T.exact });
  add('doWhileContinue', function (this: K) { let k = 0; let s = 0; do { k++; if (k % 2 === 0) continue; s += k; } while (k < 1500); return s + this.thread.x; }, [], [n], { tol: T.exact });
  add('accumulate', function (this: K, p: any) { let s = 0; for (let i = 0; i < 64; i++) { s += p[i] * p[(i + this.thread.x) % 64]; } return s; }, [a], [n], { tol: T.accumulated(64) });
  add('loopLocals', function (this: K, p: any) { let best = -1e30; for (let i = 0; i < 64; i++) { const v = p[i] - this.thread.x * 0.1; if (v > best) best = v; } return best; }, [a], [n]);
  add('incrementStatements', function (this: K) { let v = 0.25 + this.thread.x; v++; v++; v--; let i = 3; i--; return v + i; }, [], [n], { tol: T.exact });
});

export const branches = group('branch', (add) => {
  add('ifElse', function (this: K, p: any) { if (p[this.thread.x] > 0) { return 1; } else { return -1; } }, [a], [n], { tol: T.exact });
  add('elseIf', function (this: K, p: any) { const v = p[this.thread.x]; if (v < -1) { return -2; } else if (v < 1) { return 0; } else { return 2; } }, [a], [n], { tol: T.exact });
  add('earlyReturn', function (this: K, p: any) { if (this.thread.x % 2 === 0) return p[this.thread.x]; return -p[this.thread.x]; }, [a], [n], { tol: T.exact });
  add('assignInBranch', function (this: K, p: any) { let r = 0; if (p[this.thread.x] > 1) { r = 10; } else { r = 20; } return r + this.thread.x; }, [a], [n], { tol: T.exact });
  add('nestedIf', function (this: K, p: any) { const v = p[this.thread.x]; if (v > 0) { if (v > 1) { return 2; } return 1; } return 0; }, [a], [n], { tol: T.exact });
  add('switch', function (this: K) {
    switch (this.thread.x % 4) {
      case 0: return 10;
      case 1: return 20;
      case 2: return 30;
      default: return 40;
    }
  }, [], [n], { tol: T.exact });
  add('switchBreak', function (this: K) {
    let r = 0;
    switch (this.thread.x % 3) {
      case 0: r = 5; break;
      case 1: r = 7; break;
      default: r = 9;
    }
    return r;
  }, [], [n], { tol: T.exact });
  add('ternary', function (this: K, p: any) { return p[this.thread.x] > 0 ? p[this.thread.x] : 0; }, [a], [n], { tol: T.exact });
  add('nestedTernary', function (this: K, p: any) { const v = p[this.thread.x]; return v > 1 ? 1 : v < -1 ? -1 : v; }, [a], [n], { tol: T.exact });
  add('ternaryInExpr', function (this: K, p: any) { return 2 * (p[this.thread.x] > 0 ? 3 : 4) + 1; }, [a], [n], { tol: T.exact });
  add('logicalShortCircuit', function (this: K, p: any) { const i = this.thread.x; return i > 0 && p[i - 1] > 0 ? 1 : 0; }, [a], [n], { tol: T.exact });
  add('booleanLocal', function (this: K, p: any) { const pos = p[this.thread.x] > 0; return pos ? 3 : 4; }, [a], [n], { tol: T.exact });
  add('threadParity', function (this: K) { return this.thread.x % 2 === 0 ? this.thread.x / 2 : -this.thread.x; }, [], [n], { tol: T.exact });
});
