import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject, it } from 'vitest';
import { openStorage, type Storage } from '../../src/db/client.js';
import { databaseUrl, TEST_POSTGRES_URL } from './env.js';
import { openPgliteImage } from './pglite-image.js';

export type TestDatabase = 'postgres' | 'pglite';

/** PGlite in the PGlite projects, and everywhere when the run has no Postgres (TEST_POSTGRES=none). */
export const testDatabaseKind = (): TestDatabase =>
  process.env.CONCORD_TEST_DB === 'pglite' || process.env.TEST_POSTGRES === 'none'
    ? 'pglite'
    : 'postgres';

/**
 * A migrated database of the test file's own: a clone of the run's template on the real
 * Postgres, or an in-memory PGlite loaded from the run's migrated image (a fresh one migrated
 * here in a project without test/support/postgres-setup.ts). `close` drops it.
 */
export async function openTestStorage(): Promise<Storage & { url?: string }> {
  if (testDatabaseKind() === 'pglite') {
    const image = inject('pgliteImage');
    return image ? openPgliteImage(image) : openStorage({ pgliteDir: null });
  }
  const template = inject('pgTemplate');
  const name = `${template}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  const storage = await openStorage({ databaseUrl: databaseUrl(name) });
  return {
    ...storage,
    url: databaseUrl(name),
    close: async () => {
      await storage.close();
      const dropper = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

/**
 * `it` for a test that needs a Postgres server itself (a child process or a second client on the
 * same database, the server's statement log, postgres.js's pipeline, a server that goes away).
 * In a run without one (TEST_POSTGRES=none: nothing answered and no initdb) it is skipped, with
 * the reason in its name and in the run's `N skipped`.
 */
export const itWithPostgresServer = (name: string, fn: () => Promise<void>, timeout?: number) =>
  process.env.TEST_POSTGRES === 'none'
    ? it.skip(`${name} [skipped: this run has no Postgres server]`, fn, timeout)
    : it(name, fn, timeout);
