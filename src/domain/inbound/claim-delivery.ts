import type { Queryable } from '../../db/client.js';
import { inboundDeliveries } from '../../db/schema/inbound.js';

/**
 * Records an inbound delivery key; false when it was recorded before (a platform retry, or the
 * same interaction over the gateway and over HTTP). Call it in the transaction of the work the
 * delivery causes where there is one, so a failed attempt leaves the key free for the retry.
 */
export async function claimDelivery(db: Queryable, key: string): Promise<boolean> {
  const rows = await db
    .insert(inboundDeliveries)
    .values({ key })
    .onConflictDoNothing()
    .returning({ key: inboundDeliveries.key });
  return rows.length > 0;
}
