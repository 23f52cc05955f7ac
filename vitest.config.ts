import { defineConfig } from 'vitest/config';

// The suite runs the packages' TypeScript sources, not their built dist/: the `tandem:source`
// export condition selects them, for Vite's resolver and — through NODE_OPTIONS, which the test
// processes and every worker thread and process they start inherit — for Node's own.
const SOURCE = '--conditions=tandem:source';
if (!process.env.NODE_OPTIONS?.includes(SOURCE)) process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, SOURCE].filter(Boolean).join(' ');

export default defineConfig({
  resolve: { conditions: ['tandem:source'] },
  ssr: { resolve: { conditions: ['tandem:source'], externalConditions: ['tandem:source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // Tests start real worker threads and processes; a 2-core machine needs headroom.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
