/**
 * One contract, one wording: the same bad call fails with the same ArgumentError (argument and
 * message) on every backend, because each verifies it with core's shared checkCall.
 */
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { ArgumentError, Tensor, WorkerPool } from '@tandem/core';
import { kernelCall, checkCall, type IndexRange, type KernelCall } from '@tandem/core/backend';
import { CpuBackend } from '../src/cpu/index.ts';
import { TfjsBackend } from '../src/tfjs/index.ts';
import { WebGpuBackend } from '../src/webgpu/index.ts';
import { gpuOrSkip, random, tensor } from './harness.ts';

const a = tensor(random(6, 1), [2, 3]);
const b = tensor(random(6, 2), [3, 2]);
const x = tensor(random(8, 3));

/** Calls that break the contract, each with the argument its error must name. */
const BAD: readonly { what: string; call: KernelCall; range?: IndexRange; argument: string }[] = [
  { what: 'an unregistered kernel', call: { kernel: 'fft', args: [x], params: {}, output: Tensor.zeros([8]) }, argument: 'call.kernel' },
  { what: 'args that are not an array', call: { kernel: 'neg', args: 'x' as never, params: {}, output: Tensor.zeros([8]) }, argument: 'call.args' },
  { what: 'an output that is not a tensor', call: { kernel: 'neg', args: [x], params: {}, output: [0] as never }, argument: 'call.output' },
  { what: 'the wrong arity', call: { kernel: 'neg', args: [x, x], params: {}, output: Tensor.zeros([8]) }, argument: 'args' },
  { what: 'an int32 argument', call: { kernel: 'neg', args: [Tensor.zeros([8], 'int32')], params: {}, output: Tensor.zeros([8]) }, argument: 'args[0].dtype' },
  { what: 'mismatched shapes', call: { kernel: 'matmul', args: [a, a], params: {}, output: Tensor.zeros([2, 3]) }, argument: 'args[1].shape' },
  { what: 'an output of the wrong shape', call: { kernel: 'matmul', args: [a, b], params: {}, output: Tensor.zeros([2, 3]) }, argument: 'call.output' },
  { what: 'an output of the wrong dtype', call: { kernel: 'neg', args: [x], params: {}, output: Tensor.zeros([8], 'int32') }, argument: 'call.output' },
  { what: 'a histogram without bins', call: { kernel: 'histogram', args: [x], params: { lo: 0, hi: 1 }, output: Tensor.zeros([4], 'uint32') }, argument: 'params.bins' },
  { what: 'a range past the extent', call: kernelCall('neg', [x]), range: { start: 0, end: 9 }, argument: 'range' },
  { what: 'a range not on whole rows', call: kernelCall('matmul', [a, b]), range: { start: 1, end: 4 }, argument: 'range' },
];

/** What a rejection says: the parts a user reads. */
async function failure(run: () => Promise<unknown>): Promise<{ name: string; argument: string; message: string }> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ArgumentError);
    const e = error as ArgumentError;
    return { name: e.name, argument: e.argument, message: e.message };
  }
  throw new Error('the call did not fail');
}

const pool = new WorkerPool({ workers: 1 });
const cpu = new CpuBackend(pool);
const tfjs = new TfjsBackend({ engine: 'cpu' });
const gpu = new WebGpuBackend();
let gpuReady = false;

beforeAll(async () => {
  await cpu.init();
  await tfjs.init();
  gpuReady = (await gpuOrSkip(() => gpu.init())).available;
});
afterAll(async () => {
  await Promise.all([cpu.dispose(), tfjs.dispose(), gpu.dispose()]);
  await pool.destroy();
});

describe('checkCall, shared by every backend', () => {
  for (const bad of BAD) {
    it(`gives the same error on cpu, tfjs and webgpu for ${bad.what}`, async (ctx: TestContext) => {
      const expected = await failure(async () => checkCall(bad.call, bad.range));
      expect(expected.argument).toBe(bad.argument);
      expect(await failure(() => cpu.run(bad.call, bad.range))).toEqual(expected);
      expect(await failure(() => tfjs.run(bad.call, bad.range))).toEqual(expected);
      if (!gpuReady) return ctx.skip();
      expect(await failure(() => gpu.run(bad.call, bad.range))).toEqual(expected);
    });
  }

  it('passes a good call with its spec and the whole range', () => {
    const { spec, range } = checkCall(kernelCall('matmul', [a, b]));
    expect(spec.name).toBe('matmul');
    expect(range).toEqual({ start: 0, end: 4 });
  });
});
