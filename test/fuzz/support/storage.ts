import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { openStorage, type Storage } from '../../../src/db/client.js';
import { databaseUrl, TEST_POSTGRES_URL } from '../../support/env.js';
import { openTestStorage, testDatabaseKind } from '../../support/storage.js';

/**
 * A migrated database of the fuzz's own on the real Postgres, as `openTestStorage` makes one (a
 * clone of the run's template), with `synchronous_commit` off for it alone before anything
 * connects: the fuzz commits a delivery claim for every command it sends, and waiting for each
 * to reach the disk would only slow it down (about a fifth). Nothing else changes: it is the
 * same server, schema and isolation. `close` drops it. Without a Postgres, a PGlite one.
 */
export async function openFuzzStorage(): Promise<Storage & { url?: string }> {
  // A run without a Postgres fuzzes on PGlite, as the rest of its database projects.
  if (testDatabaseKind() === 'pglite') return openTestStorage();
  const name = `${inject('pgTemplate')}_fz${randomBytes(4).toString('hex')}`;
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template ${inject('pgTemplate')}`);
    await admin.unsafe(`alter database ${name} set synchronous_commit = off`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const storage = await openStorage({ databaseUrl: url });
  return {
    ...storage,
    url,
    close: async () => {
      await storage.close();
      const dropper = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}
