import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { openStorage, type Storage } from '../../src/db/client.js';

/**
 * A migrated PGlite's data directory as a tarball, made once by Concord's own `openStorage`
 * (migrations included): opening a PGlite from it takes about a third of the time of a fresh one
 * plus the migrations (0.5–0.9 s against 1.6–2.8 s measured here), and the database suite opens
 * one per test. `remove` deletes the file.
 */
export async function makePgliteImage(): Promise<{ file: string; remove: () => void }> {
  const storage = await openStorage({ pgliteDir: null });
  try {
    const client = (storage.db as unknown as { $client: PGlite }).$client;
    const dump = await client.dumpDataDir('none');
    const dir = mkdtempSync(join(tmpdir(), 'concord-test-pglite-'));
    const file = join(dir, 'migrated.tar');
    writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
    return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } finally {
    await storage.close();
  }
}

/**
 * An in-memory PGlite of its own, loaded from an image `makePgliteImage` made, opened by
 * Concord's own `openStorage` (the transaction guard and the turns included; its migrations find
 * nothing left to do).
 */
export function openPgliteImage(file: string): Promise<Storage> {
  return openStorage({ pgliteDir: null, loadDataDir: new Blob([readFileSync(file)]) });
}
