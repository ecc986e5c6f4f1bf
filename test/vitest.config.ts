import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));

// One `npm test` runs everything: unit tests, the database suite twice (real Postgres, then
// PGlite), integration tests against real Postgres and Redis, and end-to-end process runs.
export default defineConfig({
  test: {
    root,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Most files wait far more than they compute (on Postgres, Redis, child processes, the
    // fake platforms' timers): Vitest's default on 2 cores is one file at a time.
    maxWorkers: Number(process.env.TEST_WORKERS ?? 4),
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/db/**/*.test.ts', 'test/integration/**/*.test.ts'],
          env: { CONCORD_TEST_DB: 'postgres' },
          globalSetup: ['test/support/postgres-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'pglite',
          include: ['test/db/**/*.test.ts'],
          env: { CONCORD_TEST_DB: 'pglite' },
          globalSetup: ['test/support/postgres-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'adapters',
          include: ['test/adapters/**/*.test.ts', 'test/fakes/**/*.test.ts'],
          env: { CONCORD_TEST_DB: 'postgres' },
          globalSetup: ['test/support/postgres-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/postgres-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          // Property-based fuzz of every entrance (HTTP and command text) on a real stack:
          // FUZZ_RUNS cases each, FUZZ_SEED to replay a run. 1,000 in `npm test`; the full
          // 10,000 (the fuzz's own default) are `npm run test:fuzz`, a CI step of its own.
          name: 'fuzz',
          include: ['test/fuzz/**/*.test.ts'],
          env: { CONCORD_TEST_DB: 'postgres', FUZZ_RUNS: process.env.FUZZ_RUNS ?? '1000' },
          globalSetup: ['test/support/postgres-setup.ts'],
        },
      },
    ],
  },
});
