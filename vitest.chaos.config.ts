import { defineConfig } from 'vitest/config';

// `npm run test:chaos`: every chaos scenario, the long ones included. `npm test` runs only the quick ones.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Each scenario runs a service process, a simulator and PostgreSQL work: one at a time keeps their timing honest.
    fileParallelism: false,
  },
});
