import { sql } from 'drizzle-orm';
import type { Database, Transaction } from '../../db/client.js';
import { inboundDeliveries } from '../../db/schema/inbound.js';

// Every command, button and message claims its key first: built once per database, not per call.
const statements = new WeakMap<Database, ReturnType<typeof prepareClaim>>();

function prepareClaim(db: Database) {
  return db
    .insert(inboundDeliveries)
    .values({ key: sql.placeholder('key') })
    .onConflictDoNothing()
    .returning({ key: inboundDeliveries.key })
    .prepare('claim_delivery');
}

/**
 * Records an inbound delivery key; false when it was recorded before (a platform retry, or the
 * same interaction over the gateway and over HTTP). Outside a transaction it is a prepared
 * statement; inside one (`tx`), the claim lands or rolls back with the work it guards.
 */
export async function claimDelivery(db: Database, key: string, tx?: Transaction): Promise<boolean> {
  if (tx) {
    const rows = await tx
      .insert(inboundDeliveries)
      .values({ key })
      .onConflictDoNothing()
      .returning({ key: inboundDeliveries.key });
    return rows.length > 0;
  }
  let claim = statements.get(db);
  if (!claim) {
    claim = prepareClaim(db);
    statements.set(db, claim);
  }
  return (await claim.execute({ key })).length > 0;
}
