/** The tfjs backend's kernel suite on the cpu engine (plain JavaScript on this thread). */
import { afterAll, beforeAll, describe } from 'vitest';
import { TfjsBackend } from '../src/tfjs/index.ts';
import { FULL, kernelSuite } from './fixtures/tfjs/suite.ts';

describe('tfjs backend, cpu engine', () => {
  let backend: TfjsBackend;
  beforeAll(async () => {
    backend = new TfjsBackend({ engine: 'cpu' });
    await backend.init();
  });
  afterAll(() => backend.dispose());
  kernelSuite('cpu', FULL, () => backend);
});
