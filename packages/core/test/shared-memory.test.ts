/**
 * Dropped shared memory is collected: V8 does not count SharedArrayBuffers toward its next
 * collection, so without `sharedBuffer`'s own collections a loop of tensors would keep every one.
 * Checked through a FinalizationRegistry: its callback runs only once a collection freed the tensor.
 */
import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/index.ts';
import { COLLECT_EVERY_BYTES, MAJOR_EVERY } from '../src/tensor/shared-memory.ts';

describe('sharedBuffer', () => {
  it('collects a dropped tensor by the first full collection, after MAJOR_EVERY × COLLECT_EVERY_BYTES of shared memory', async () => {
    const freed: string[] = [];
    const registry = new FinalizationRegistry((name: string) => freed.push(name));
    (() => {
      const dropped = Tensor.zeros([1024], 'float32');
      registry.register(dropped, 'dropped');
    })();
    // Shared memory only, 4 MiB at a time: the JS heap barely grows, so V8 alone would not collect.
    for (let allocated = 0; allocated <= (MAJOR_EVERY + 1) * COLLECT_EVERY_BYTES; allocated += 4 << 20) {
      Tensor.zeros([1 << 20], 'float32');
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (let i = 0; i < 20 && freed.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(freed).toEqual(['dropped']);
  });
});
