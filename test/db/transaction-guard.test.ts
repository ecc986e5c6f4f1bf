import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/db/client.js';
import { inboundDeliveries } from '../../src/db/schema/index.js';
import { reusableStatement } from '../../src/db/statement.js';
import { QueryInsideTransactionError } from '../../src/db/transaction-guard.js';
import { claimDelivery } from '../../src/domain/inbound/claim-delivery.js';
import { openTestStorage } from '../support/storage.js';

// PGlite has one connection: a query through `db` from inside one of its transactions waited
// forever (Concord froze on the first message in a bridged incident channel). On Postgres the
// same query took a second connection and missed the transaction's writes. Both now throw at
// once; unrelated work is untouched.

let storage: Storage;
beforeEach(async () => {
  storage = await openTestStorage();
});
afterEach(async () => {
  await storage.close();
});

const REFUSED =
  /^QueryInsideTransactionError: query through db inside a transaction: use the transaction handle/;

/** Rejects when `work` is still pending after `ms`: a refusal must come at once, not hang. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms),
    ),
  ]);
}

/** drizzle wraps a query's failure in its own error, the refusal as its cause. */
async function expectRefused(work: Promise<unknown>): Promise<void> {
  const error = await within(1000, work).then(
    () => new Error('not refused'),
    (e: unknown) => e,
  );
  const refusal = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  expect(refusal).toBeInstanceOf(QueryInsideTransactionError);
  expect(String(refusal)).toMatch(REFUSED);
}

const keysIn = async () =>
  (await storage.db.select({ key: inboundDeliveries.key }).from(inboundDeliveries))
    .map((r) => r.key)
    .sort();

describe('a query through db inside a transaction', () => {
  it('is refused at once, the transaction handle works, and db works again after commit', async () => {
    const { db } = storage;
    const started = performance.now();
    await db.transaction(async (tx) => {
      await tx.insert(inboundDeliveries).values({ key: 'k:tx' });
      await expectRefused(db.select().from(inboundDeliveries));
      await expectRefused(db.execute(sql`select 1`));
      await expectRefused(db.insert(inboundDeliveries).values({ key: 'k:db' }));
      // The transaction is still usable after a refusal: nothing reached the database.
      expect(await tx.select().from(inboundDeliveries)).toHaveLength(1);
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await keysIn()).toEqual(['k:tx']);
  });

  it('is refused through a statement prepared on db, first use or later', async () => {
    const { db } = storage;
    expect(await claimDelivery(db, 'k:before')).toBe(true); // prepared and cached outside
    const reusable = reusableStatement<{ key: string }>((on) =>
      on
        .select({ key: inboundDeliveries.key })
        .from(inboundDeliveries)
        .where(eq(inboundDeliveries.key, sql.placeholder('key'))),
    );
    await db.transaction(async (tx) => {
      await expectRefused(claimDelivery(db, 'k:inside'));
      await expectRefused(reusable(db, { key: 'k:before' }));
      // The same statements on the transaction's handle run.
      expect(await claimDelivery(db, 'k:inside', tx)).toBe(true);
      expect(await reusable(tx, { key: 'k:inside' })).toEqual([{ key: 'k:inside' }]);
    });
    expect(await claimDelivery(db, 'k:after')).toBe(true);
    expect(await keysIn()).toEqual(['k:after', 'k:before', 'k:inside']);
  });

  it('is refused when it opens another transaction; a savepoint on tx works', async () => {
    const { db } = storage;
    await db.transaction(async (tx) => {
      await expectRefused(
        db.transaction(async (inner) => {
          await inner.insert(inboundDeliveries).values({ key: 'k:nested' });
        }),
      );
      await tx.transaction(async (savepoint) => {
        await savepoint.insert(inboundDeliveries).values({ key: 'k:savepoint' });
      });
    });
    expect(await keysIn()).toEqual(['k:savepoint']);
  });

  it('is refused deep in the call chain, through helpers and timers started inside', async () => {
    const { db } = storage;
    const lookUp = async () => {
      await Promise.resolve();
      return db.select().from(inboundDeliveries);
    };
    await db.transaction(async () => {
      await expectRefused(lookUp());
      const later = new Promise((resolve, reject) => {
        setTimeout(() => lookUp().then(resolve, reject), 5);
      });
      await expectRefused(later);
    });
  });

  it('is allowed in a continuation the transaction left running once it has ended', async () => {
    const { db } = storage;
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let afterwards: Promise<unknown> = Promise.resolve();
    await db.transaction(async (tx) => {
      await tx.insert(inboundDeliveries).values({ key: 'k:left' });
      afterwards = gate.then(() => db.select().from(inboundDeliveries));
    });
    release();
    expect(await within(5000, afterwards)).toHaveLength(1);
  });
});

describe('unrelated work while a transaction is open', () => {
  it('is not refused: other queries and transactions run (on PGlite, in turn)', async () => {
    const { db } = storage;
    await db.insert(inboundDeliveries).values({ key: 'k:seed' });
    let inside = () => {};
    const opened = new Promise<void>((resolve) => {
      inside = resolve;
    });
    let finish = () => {};
    const finishing = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // Started from the test's own context, not from inside the transaction's body.
    const holding = db.transaction(async (tx) => {
      await tx.insert(inboundDeliveries).values({ key: 'k:held' });
      inside();
      await finishing;
    });
    await opened;
    const others = Promise.all([
      db.select().from(inboundDeliveries),
      claimDelivery(db, 'k:other'),
      ...Array.from({ length: 5 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.insert(inboundDeliveries).values({ key: `k:parallel-${i}` });
          return tx
            .select()
            .from(inboundDeliveries)
            .where(eq(inboundDeliveries.key, `k:parallel-${i}`));
        }),
      ),
    ]);
    finish();
    const [seen, claimed, ...parallel] = await within(10_000, others);
    await holding;
    expect(seen.map((r) => r.key)).toContain('k:seed');
    expect(claimed).toBe(true);
    expect(parallel.map((rows) => rows.length)).toEqual([1, 1, 1, 1, 1]);
    expect(await keysIn()).toEqual([
      'k:held',
      'k:other',
      'k:parallel-0',
      'k:parallel-1',
      'k:parallel-2',
      'k:parallel-3',
      'k:parallel-4',
      'k:seed',
    ]);
  });

  it('is not refused in two transactions running side by side from unrelated contexts', async () => {
    const { db } = storage;
    const results = await within(
      10_000,
      Promise.all(
        ['a', 'b', 'c'].map((name) =>
          db.transaction(async (tx) => {
            await tx.insert(inboundDeliveries).values({ key: `k:${name}` });
            await new Promise((resolve) => setTimeout(resolve, 5));
            return (await tx.select().from(inboundDeliveries)).length;
          }),
        ),
      ),
    );
    expect(results.every((n) => n >= 1)).toBe(true);
    expect(await keysIn()).toEqual(['k:a', 'k:b', 'k:c']);
  });
});
