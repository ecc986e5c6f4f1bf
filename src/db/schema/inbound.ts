import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Every inbound delivery (Slack `trigger_id`/`event_id`, Discord interaction or message id) Concord
 * has accepted. The primary key makes a platform's retry, or the same interaction arriving over
 * the gateway and over HTTP, a no-op.
 */
export const inboundDeliveries = pgTable('inbound_deliveries', {
  key: text('key').primaryKey(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
});
