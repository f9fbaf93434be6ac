// The fault suite (test/faults): real processes killed and restarted, dockerd restarted, a full
// disk. Its files take the whole machine, so they run one at a time, after the main suite
// (scripts/test.sh), never beside it.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts', 'test/faults/faults-global-setup.ts'],
    // A scenario waits out worker timeouts and a server down for two minutes.
    testTimeout: 360_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
