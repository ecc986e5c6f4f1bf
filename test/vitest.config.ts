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
          // The same adapter suites on the embedded default storage, which has one connection:
          // a query that waits on its own transaction shows here and nowhere else. (The fakes'
          // own tests use no database.)
          name: 'adapters-pglite',
          include: ['test/adapters/**/*.test.ts'],
          env: { CONCORD_TEST_DB: 'pglite' },
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          // Property-based fuzz of every entrance (HTTP and command text) on a real stack:
          // FUZZ_RUNS cases each (default 10,000), FUZZ_SEED to replay a run.
          name: 'fuzz',
          include: ['test/fuzz/**/*.test.ts'],
          // Each fuzz file is bound by its own main thread: two at once use both cores. A
          // project with its own maxWorkers needs its own group, run after the others.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          env: { CONCORD_TEST_DB: 'postgres' },
          globalSetup: ['test/support/postgres-setup.ts'],
        },
      },
    ],
  },
});
