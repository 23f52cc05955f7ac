/** 1-, 2- and 3-D outputs and arguments: flat arrays, typed arrays, Tensors, nested arrays. */
import { Tensor } from '@tandem/core';
import { group, matrix, values, type K } from './case.ts';
import { USER_KERNEL_TOLERANCE as T } from './tolerance.ts';

const m = matrix(13, 17, 31);
const mt = Tensor.from(m.flat(), [13, 17]);
const cube = Array.from({ length: 5 }, (_, z) => matrix(6, 7, 40 + z));
const cubeT = Tensor.from(cube.flat(2), [5, 6, 7]);
const flat = values(221, 32);
const f32 = Float32Array.from(values(50, 33));

export const shapes = group('shape', (add) => {
  add('flatArray', function (this: K, a: any) { return a[this.thread.x] * 2; }, [flat], [221], { tol: T.exact });
  add('float32Array', function (this: K, a: any) { return a[this.thread.x] + 1; }, [f32], [50]);
  add('tensor1d', function (this: K, a: any) { return a[this.thread.x] * 3; }, [Tensor.from(flat)], [221]);
  add('nested2d', function (this: K, a: any) { return a[this.thread.y][this.thread.x]; }, [m], [17, 13], { tol: T.exact });
  add('tensor2d', function (this: K, a: any) { return a[this.thread.y][this.thread.x] * 2; }, [mt], [17, 13], { tol: T.exact });
  add('transpose', function (this: K, a: any) { return a[this.thread.x][this.thread.y]; }, [m], [13, 17], { tol: T.exact });
  add('rowSum', function (this: K, a: any) { let s = 0; for (let i = 0; i < 17; i++) { s += a[this.thread.x][i]; } return s; }, [m], [13], { tol: T.accumulated(17) });
  add('matmul', function (this: K, a: any, b: any) { let s = 0; for (let i = 0; i < 17; i++) { s += a[this.thread.y][i] * b[i][this.thread.x]; } return s; }, [m, matrix(17, 9, 34)], [9, 13], { tol: T.accumulated(17 * 4) });
  add('stencil', function (this: K, a: any) {
    const x = this.thread.x;
    const y = this.thread.y;
    let s = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const yy = y + dy;
      const xx = x + dx;
      if (yy >= 0 && yy < this.output.y && xx >= 0 && xx < this.output.x) s += a[yy][xx];
    }
    return s / 9;
  }, [m], [17, 13], { tol: T.accumulated(9) });
  add('outputSize2d', function (this: K) { return this.output.x * 100 + this.output.y + this.thread.y; }, [], [11, 9], { tol: T.exact });
  add('index2d', function (this: K) { return this.thread.y * this.output.x + this.thread.x; }, [], [19, 23], { tol: T.exact });
  add('nested3d', function (this: K, a: any) { return a[this.thread.z][this.thread.y][this.thread.x]; }, [cube], [7, 6, 5], { tol: T.exact });
  add('tensor3d', function (this: K, a: any) { return a[this.thread.z][this.thread.y][this.thread.x] - this.thread.z; }, [cubeT], [7, 6, 5], { tol: T.exact });
  add('index3d', function (this: K) { return (this.thread.z * this.output.y + this.thread.y) * this.output.x + this.thread.x; }, [], [5, 4, 7], { tol: T.exact });
  add('outputSize3d', function (this: K) { return this.output.z * 10000 + this.output.y * 100 + this.output.x; }, [], [3, 4, 5], { tol: T.exact });
  add('planeSum', function (this: K, a: any) { let s = 0; for (let y = 0; y < 6; y++) for (let x = 0; x < 7; x++) { s += a[this.thread.x][y][x]; } return s; }, [cube], [5], { tol: T.accumulated(42) });
  add('mixedRanks', function (this: K, v: any, a: any, s: number) { return v[this.thread.x] * a[this.thread.y][this.thread.x] + s; }, [values(17, 35), m, 0.25], [17, 13]);
  add('flatIn2dOut', function (this: K, v: any) { return v[this.thread.y * 17 + this.thread.x]; }, [m.flat()], [17, 13], { tol: T.exact });
  add('flatIn3dOut', function (this: K, v: any) { return v[(this.thread.z * 6 + this.thread.y) * 7 + this.thread.x]; }, [cube.flat(2)], [7, 6, 5], { tol: T.exact });
  add('oneElement', function (this: K, a: any) { return a[0] + 1; }, [[41]], [1], { tol: T.exact });
  add('tallThin', function (this: K) { return this.thread.y * 2 + this.thread.x; }, [], [1, 300], { tol: T.exact });
  add('wideShort', function (this: K) { return this.thread.x - this.thread.y; }, [], [700, 2], { tol: T.exact });
  add('constantArray2d', function (this: K) { return this.constants.w[this.thread.y][this.thread.x]; }, [], [3, 2], { tol: T.exact, constants: { w: [[1, 2, 3], [4, 5, 6]] } });
});
