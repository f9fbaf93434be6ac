import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // End-to-end tests start servers, workers and containers: on two cores, a few files at a time.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
