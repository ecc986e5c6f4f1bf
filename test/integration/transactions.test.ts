import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { openStorage, type Storage } from '../../src/db/client.js';
import { organisations } from '../../src/db/schema/index.js';
import { itWithPostgresServer, openTestStorage } from '../support/storage.js';

// postgres.js 3.4.9 reserves a transaction's connection only when writing BEGIN does not fill
// the pipeline; with max_pipeline 0 its own `begin` fails every time (porsager/postgres#1210),
// and at the edge of the default it leaves a transaction open on a pooled connection. Concord's
// transactions reserve the connection first.
let owner: Storage & { url?: string };
let storage: Storage;

beforeAll(async () => {
  owner = await openTestStorage();
  storage = await openStorage({ databaseUrl: owner.url as string, maxPipeline: 0 });
});
afterAll(async () => {
  await storage.close();
  await owner.close();
});

const orgCount = async (code: string) => {
  const [row] = await owner.db
    .select({ n: count() })
    .from(organisations)
    .where(eq(organisations.code, code));
  return row?.n ?? 0;
};

describe('transactions on a reserved connection', () => {
  itWithPostgresServer(
    'commit at the pipeline edge that breaks postgres.js’s own begin',
    async () => {
      await storage.db.transaction(async (tx) => {
        await tx.insert(organisations).values({ code: 'TXA', name: 'A', kind: 'industry' });
      });
      expect(await orgCount('TXA')).toBe(1);
    },
  );

  itWithPostgresServer(
    'roll back on an error and leave the connection clean for the next one',
    async () => {
      await expect(
        storage.db.transaction(async (tx) => {
          await tx.insert(organisations).values({ code: 'TXB', name: 'B', kind: 'industry' });
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await orgCount('TXB')).toBe(0);
      // A connection left inside the failed transaction would still see it; a clean one does not.
      await storage.db.transaction(async (tx) => {
        await tx.insert(organisations).values({ code: 'TXB2', name: 'B2', kind: 'industry' });
      });
      expect(await orgCount('TXB2')).toBe(1);
    },
  );

  itWithPostgresServer('roll a nested transaction back to its savepoint only', async () => {
    await storage.db.transaction(async (tx) => {
      await tx.insert(organisations).values({ code: 'TXC', name: 'C', kind: 'industry' });
      await tx
        .transaction(async (inner) => {
          await inner.insert(organisations).values({ code: 'TXD', name: 'D', kind: 'industry' });
          throw new Error('inner only');
        })
        .catch(() => {});
    });
    expect(await orgCount('TXC')).toBe(1);
    expect(await orgCount('TXD')).toBe(0);
  });

  itWithPostgresServer('keep 200 concurrent transactions apart on a pool of 10', async () => {
    const [before] = await owner.db.select({ n: count() }).from(organisations);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        storage.db
          .transaction(async (tx) => {
            await tx
              .insert(organisations)
              .values({ code: `TXP${i}`, name: `P${i}`, kind: 'industry' });
            if (i % 2) throw new Error('odd ones roll back');
          })
          .catch(() => {}),
      ),
    );
    const [row] = await owner.db.select({ n: count() }).from(organisations);
    expect(row?.n).toBe((before?.n ?? 0) + 100);
  });
});
