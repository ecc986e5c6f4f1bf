import { lt } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { inboundDeliveries } from '../../db/schema/inbound.js';
import { scheduledItems } from '../../db/schema/scheduled.js';
import type { ItemHandler } from '../../jobs/worker.js';

export const INBOUND_SWEEP = 'inbound.sweep';
const DAY_MS = 86_400_000;
/**
 * How long an inbound key is kept. A key only has to outlive the platform's redeliveries:
 * Slack retries an event for about an hour, and a Discord interaction token lasts 15 minutes.
 * Two days covers both with room to spare, and a restart or an outage in between.
 */
export const INBOUND_KEY_DAYS = 2;

/**
 * `inbound.sweep`, daily: forgets inbound delivery keys older than `INBOUND_KEY_DAYS`. Every
 * command, button and message records one (a refused one too, so that its retry is a no-op),
 * and without this the table only grows.
 */
export const sweepInboundKeys: ItemHandler = async ({ tx, now }) => {
  await tx
    .delete(inboundDeliveries)
    .where(lt(inboundDeliveries.receivedAt, new Date(now.getTime() - INBOUND_KEY_DAYS * DAY_MS)));
  return { again: new Date(now.getTime() + DAY_MS) };
};

/** Makes sure the daily sweep exists; it is created once and then recurs by itself. */
export async function ensureInboundSweep(db: Database, now: Date): Promise<void> {
  await db
    .insert(scheduledItems)
    .values({ kind: INBOUND_SWEEP, subject: 'daily', dueAt: new Date(now.getTime() + 60_000) })
    .onConflictDoNothing();
}
