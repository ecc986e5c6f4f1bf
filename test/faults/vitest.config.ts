import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../..', import.meta.url));

// `npm run test:faults`: Concord as a real process against a Postgres and a Redis of the suite's
// own, faults played one at a time. The files start servers and processes and time what they do,
// so they run one after another, never beside each other.
export default defineConfig({
  test: {
    root,
    include: ['test/faults/**/*.test.ts'],
    reporters: [
      'default',
      './test/faults/support/reporter.ts',
      './test/support/summary-reporter.ts',
    ],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
  },
});
