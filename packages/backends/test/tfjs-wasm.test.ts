/** The tfjs backend's kernel suite on the wasm engine (SIMD, one thread: tfjs-backend-wasm has no threads in Node). */
import { afterAll, beforeAll, describe } from 'vitest';
import { TfjsBackend } from '../src/tfjs/index.ts';
import { FULL, kernelSuite } from './fixtures/tfjs/suite.ts';

describe('tfjs backend, wasm engine', () => {
  let backend: TfjsBackend;
  beforeAll(async () => {
    backend = new TfjsBackend({ engine: 'wasm' });
    await backend.init();
  });
  afterAll(() => backend.dispose());
  kernelSuite('wasm', FULL, () => backend);
});
