import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // Tests start real worker threads and processes; a 2-core machine needs headroom.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
