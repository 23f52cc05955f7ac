import { Residency } from './residency.ts';
import { ArgumentError } from '../errors.ts';
import { sharedBuffer } from './shared-memory.ts';

/** Element types a {@link Tensor} can hold. */
export type DType = 'float32' | 'float64' | 'int32' | 'uint32' | 'int16' | 'uint16' | 'int8' | 'uint8';

const arrayTypes = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
} as const;

/** The typed array that backs a tensor of dtype `D`. */
export type TypedArrayFor<D extends DType> = InstanceType<(typeof arrayTypes)[D]>;
export type AnyTypedArray = TypedArrayFor<DType>;

/** Largest element count one tensor may hold (a SharedArrayBuffer is limited to 2^31 - 1 bytes on some builds). */
export const MAX_TENSOR_BYTES = 2 ** 31 - 1;

export const DTYPES = Object.keys(arrayTypes) as DType[];

/**
 * An n-dimensional array whose data lives on a `SharedArrayBuffer`, so it crosses to worker
 * threads without being copied: a worker's writes are visible to the main thread once its task
 * resolves. (To process workers it is copied in and its data copied back after the task.)
 *
 * @example
 * ```ts
 * const t = Tensor.zeros([2, 3]);           // float32, shared memory
 * await td.run(new URL('./fill.ts', import.meta.url), 'fill', [t, 7]);
 * console.log(t.data);                      // Float32Array(6) [7, 7, 7, 7, 7, 7]
 * ```
 */
export class Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TypedArrayFor<D>;
  /** Which places hold a valid copy of the data. Not sent to workers (they share `data`). */
  readonly residency: Residency = new Residency();
  /** Set while a kernel is computing this tensor; {@link Tensor.values} waits for it. */
  pending: Promise<void> | undefined;

  /** Wraps an existing typed array (shared or not) without copying. Use the static constructors instead. */
  constructor(dtype: D, shape: readonly number[], data: TypedArrayFor<D>) {
    assertDType(dtype, 'dtype');
    const size = assertShape(shape, 'shape');
    if (!(data instanceof arrayTypes[dtype])) {
      throw new ArgumentError('data', `a ${arrayTypes[dtype].name} for dtype '${dtype}'`, data);
    }
    if (data.length !== size) {
      throw new ArgumentError('data', `${size} elements for shape [${shape.join(', ')}]`, `${data.length} elements`);
    }
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  /** A tensor of zeros on fresh shared memory. */
  static zeros<D extends DType = 'float32'>(shape: readonly number[], dtype: D = 'float32' as D): Tensor<D> {
    assertDType(dtype, 'dtype');
    const size = assertShape(shape, 'shape');
    const Ctor = arrayTypes[dtype];
    const bytes = size * Ctor.BYTES_PER_ELEMENT;
    if (bytes > MAX_TENSOR_BYTES) {
      throw new ArgumentError('shape', `at most ${MAX_TENSOR_BYTES} bytes of data`, `${bytes} bytes`);
    }
    const data = new (Ctor as new (buffer: ArrayBufferLike) => AnyTypedArray)(sharedBuffer(bytes)) as TypedArrayFor<D>;
    return new Tensor(dtype, shape, data);
  }

  /**
   * Copies `values` into a new shared tensor. `shape` defaults to one dimension of the values' length.
   */
  static from<D extends DType = 'float32'>(
    values: ArrayLike<number>,
    shape: readonly number[] = [values?.length ?? 0],
    dtype: D = 'float32' as D,
  ): Tensor<D> {
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw new ArgumentError('values', 'an array or typed array of numbers', values);
    }
    const t = Tensor.zeros(shape, dtype);
    if (t.size !== values.length) {
      throw new ArgumentError('values', `${t.size} elements for shape [${shape.join(', ')}]`, `${values.length} elements`);
    }
    (t.data as unknown as { set(a: ArrayLike<number>): void }).set(values);
    return t;
  }

  /**
   * The data, once any kernel computing it has finished (and been copied back to host memory).
   *
   * @example
   * ```ts
   * const c = td.ops.matmul(a, b);
   * console.log(await c.values());
   * ```
   */
  async values(): Promise<TypedArrayFor<D>> {
    while (this.pending) await this.pending;
    return this.data;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Whether the data is on shared memory (zero-copy to worker threads). */
  get shared(): boolean {
    return this.data.buffer instanceof SharedArrayBuffer;
  }
}

export function typedArrayFor(dtype: DType): (typeof arrayTypes)[DType] {
  return arrayTypes[dtype];
}

function assertDType(dtype: unknown, name: string): asserts dtype is DType {
  if (typeof dtype !== 'string' || !(dtype in arrayTypes)) {
    throw new ArgumentError(name, `one of ${DTYPES.join(', ')}`, dtype);
  }
}

function assertShape(shape: unknown, name: string): number {
  if (!Array.isArray(shape)) throw new ArgumentError(name, 'an array of non-negative integers', shape);
  let size = 1;
  for (const [i, d] of shape.entries()) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new ArgumentError(`${name}[${i}]`, 'a non-negative integer', d);
    }
    size *= d;
  }
  if (!Number.isSafeInteger(size)) throw new ArgumentError(name, 'a shape whose element count is a safe integer', shape);
  return size;
}
