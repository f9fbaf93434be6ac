import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.ts'],
    // The fault suite takes the machine (it restarts dockerd): vitest.faults.config.ts runs it.
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // End-to-end tests start servers, workers and containers: on two cores, a few files at a time.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
