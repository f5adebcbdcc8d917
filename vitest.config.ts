import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests open real ports and child processes; two cores are all we have.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
