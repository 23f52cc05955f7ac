/**
 * The kernel registry: the built-ins and the user-kernel spec are registered in it, td.ops is
 * built from it, and every bad registration fails with an ArgumentError naming the kernel.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, BackendUnavailableError, Tandem, type Tensor } from '../src/index.ts';
import { BUILTIN_KERNELS } from '../src/backend/index.ts';
import * as users from '../src/index.ts';
import { kernelSpec, registerKernel, registeredKernels, unregisterKernel, type KernelSpec } from '../src/backend/index.ts';

const mine: string[] = [];
afterEach(() => {
  for (const name of mine.splice(0)) unregisterKernel(name);
});

function spec(name: string, extra: Partial<KernelSpec> = {}): KernelSpec {
  return {
    name, split: 'map', arity: 1,
    output: (args) => ({ shape: [...(args[0] as Tensor).shape], dtype: 'float32' }),
    extent: (call) => call.output.size,
    cost: (_c, r) => ({ flops: r.end - r.start, bytes: 8 * (r.end - r.start) }),
    ...extra,
  };
}

function register(s: KernelSpec): void {
  registerKernel(s);
  mine.push(s.name);
}

/** The error `fn` throws, checked to be an ArgumentError. */
function thrown(fn: () => void): ArgumentError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ArgumentError);
    return error as ArgumentError;
  }
  throw new Error('no error thrown');
}

describe('the kernel registry', () => {
  it('holds every built-in and the user-kernel spec', () => {
    expect(registeredKernels()).toEqual(expect.arrayContaining([...BUILTIN_KERNELS, 'user']));
    expect(kernelSpec('histogram').params).toEqual(['bins', 'lo', 'hi']);
    expect(kernelSpec('user').split).toBe('map');
  });

  it('refuses a kernel registered twice, naming it', () => {
    register(spec('twice'));
    const e = thrown(() => registerKernel(spec('twice')));
    expect(e.argument).toBe('spec.name');
    expect(e.message).toMatch(/kernel 'twice' is registered already/);
    expect(thrown(() => registerKernel(spec('matmul'))).message).toMatch(/kernel 'matmul' is registered already/);
  });

  it('refuses a bad name', () => {
    for (const name of ['', 'has space', 'user:x', '1st', 'call', 42 as never]) {
      expect(thrown(() => registerKernel(spec(name))).argument).toBe('spec.name');
    }
    expect(thrown(() => registerKernel(null as never)).argument).toBe('spec');
  });

  it('refuses a spec missing a required part, naming the kernel', () => {
    const cases: [Partial<KernelSpec>, string][] = [
      [{ output: undefined as never }, 'spec.output'],
      [{ extent: 'n' as never }, 'spec.extent'],
      [{ cost: undefined as never }, 'spec.cost'],
      [{ split: 'reduce' }, 'spec.merge'],
      [{ split: 'fold' as never }, 'spec.split'],
      [{ arity: 1.5 }, 'spec.arity'],
      [{ align: 2 as never }, 'spec.align'],
      [{ dtypes: ['complex64' as never] }, 'spec.dtypes'],
    ];
    for (const [extra, argument] of cases) {
      const e = thrown(() => registerKernel(spec('partial', extra)));
      expect(e.argument).toBe(argument);
      expect(e.message).toContain("kernel 'partial'");
    }
    expect(registeredKernels()).not.toContain('partial');
  });

  it('names the registered kernels when asked for one that is not', () => {
    const e = thrown(() => kernelSpec('fft'));
    expect(e.argument).toBe('kernel');
    expect(e.message).toMatch(/a registered kernel \(.*matmul.*\)/);
  });

  it('is for backend authors: not exported from the users\' index', () => {
    expect('registerKernel' in users).toBe(false);
    expect('checkCall' in users).toBe(false);
  });
});

describe('td.ops, built from the registry', () => {
  it('has an op per registered kernel (but user), and call for any', async () => {
    register(spec('triple'));
    await using td = await Tandem.create({ workers: 1, backends: [], costCache: false });
    const names = registeredKernels().filter((k) => k !== 'user');
    expect(Object.keys(td.ops).sort()).toEqual([...names, 'call'].sort());
    // No backend of this session runs it: the op exists and says so at the call.
    expect(() => (td.ops as unknown as Record<string, (x: Tensor) => Tensor>).triple!(users.Tensor.from([1]))).toThrow(BackendUnavailableError);
    expect(() => td.ops.call('triple', [users.Tensor.from([1])])).toThrow(/kernel 'triple'/);
    expect(() => td.ops.call('user', [])).toThrow(ArgumentError);
  });
});

describe('kernel() options.module (where a cluster node loads the kernel)', () => {
  const fn = function (this: users.KernelThis, x: number[]) { return x[this.thread.x]!; };
  it('keeps a module given as a URL, a file URL string, a path or a package name', () => {
    const here = new URL(import.meta.url);
    expect(users.kernel('a', fn, { module: here }).module).toBe(here.href);
    expect(users.kernel('b', fn, { module: here.href }).module).toBe(here.href);
    expect(users.kernel('c', fn, { module: here.pathname }).module).toBe(here.href);
    expect(users.kernel('d', fn, { module: '@acme/kernels/geo' }).module).toBe('@acme/kernels/geo');
    expect(users.kernel('e', fn).module).toBeUndefined();
  });
  it('a numeric constant named module stays a constant; a bad module is an ArgumentError naming options.module', () => {
    expect(users.kernel('f', fn, { module: 3 }).constants).toEqual({ module: 3 });
    expect(() => users.kernel('g', fn, { module: 'not a module!' })).toThrow(ArgumentError);
    expect(() => users.kernel('g', fn, { module: 'not a module!' })).toThrow(/options\.module/);
  });
});
