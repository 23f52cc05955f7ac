import { seededRandom } from '../datasets/random.ts';
import { sharedBuffer } from '@tandem/core/internal/tensor/shared-memory';

/** Folds several integers into one 32-bit seed, so nearby inputs (epoch 1, epoch 2) give unrelated streams. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    // Both halves of the number count, so seeds past 2^32 don't collide with small ones.
    for (const word of [part >>> 0, Math.floor(part / 2 ** 32) >>> 0]) {
      h = Math.imul(h ^ word, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

/** The epoch's order: a seeded permutation of 0..n-1 on shared memory, so workers read it in place. */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(sharedBuffer(n * Int32Array.BYTES_PER_ELEMENT));
  for (let i = 0; i < n; i++) order[i] = i;
  const random = seededRandom(mixSeed(seed, epoch));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * The generator a map receives as `block.random(row)`: seeded from the pipeline's seed, the
 * epoch, the row's position in the epoch and the map's place in the chain (`stream`), so a map
 * can be checked against the same function run by hand.
 *
 * @example
 * ```ts
 * const r = rowRandom(0, 3, 17);   // seed 0, epoch 3, row 17 of the epoch, first map
 * const noise = r() - 0.5;
 * ```
 */
export function rowRandom(seed: number, epoch: number, row: number, stream = 0): () => number {
  return seededRandom(mixSeed(seed, epoch, row, stream));
}
