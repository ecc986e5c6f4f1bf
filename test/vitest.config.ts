import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));

// Files that time deliveries to a few hundred milliseconds (50 Slack posts through Bolt within
// 1 s while Discord's queue waits): beside other files on both cores they measured 1.6 s. They
// run in a group of their own after everything else, one file at a time.
const TIMED_ALONE = ['test/adapters/paced-deliveries.test.ts'];

// One `npm test` runs everything: unit tests, the database suite twice (real Postgres, then
// PGlite), integration tests against real Postgres and Redis, and end-to-end process runs.
export default defineConfig({
  test: {
    root,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Most files wait far more than they compute (on Postgres, Redis, child processes, the
    // fake platforms' timers), and Vitest's default on 2 cores is one file at a time: 381 s for
    // the suite. Three at once took it to 191 s; four failed timing assertions under load.
    maxWorkers: Number(process.env.TEST_WORKERS ?? 3),
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
          exclude: TIMED_ALONE,
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
          exclude: TIMED_ALONE,
          env: { CONCORD_TEST_DB: 'pglite' },
          globalSetup: ['test/support/postgres-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'adapters-alone',
          include: TIMED_ALONE,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
          env: { CONCORD_TEST_DB: 'postgres' },
          globalSetup: ['test/support/postgres-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'adapters-alone-pglite',
          include: TIMED_ALONE,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
          env: { CONCORD_TEST_DB: 'pglite' },
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
