import { sql } from 'drizzle-orm';
import {
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { ChatMessage } from '../../chat/message.js';

export const DELIVERY_STATUSES = ['pending', 'sending', 'sent', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type DeliveryMode = 'channel' | 'direct' | 'update' | 'edit' | 'reply';

/**
 * The outbox: every message Concord posts on its own initiative (reminders, nags, and later
 * routed requests and alerts) is a row written in the transaction that decided to send it, then
 * posted by the delivery worker. `key` is unique, so deciding twice still sends once.
 */
export const deliveries = pgTable(
  'deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    key: text('key').notNull().unique(),
    /**
     * `channel`: post in the channel `target`; `direct`: direct message to the user `target`;
     * `update`: edit the copy of `source` that was posted in the channel `target`.
     */
    mode: text('mode').$type<DeliveryMode>().notNull(),
    target: text('target').notNull(),
    /** For relays: the message this is a copy of, and the channel it was posted in. */
    source: text('source'),
    sourceChannel: text('source_channel'),
    /** Post in the thread of this message's counterpart in `target` (a relayed thread reply). */
    threadOf: text('thread_of'),
    /**
     * For `edit` and `reply`: the key of the delivery whose posted message this edits, or posts
     * under in its thread (a card's status, a relayed answer in the requester's thread).
     */
    anchor: text('anchor'),
    message: jsonb('message').$type<ChatMessage>().notNull(),
    status: text('status').$type<DeliveryStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    messageRef: text('message_ref'),
    claimedAt: timestamp('claimed_at', { withTimezone: true }),
    /**
     * The process that claimed it (`host:pid:nonce`). A claim whose process no longer renews its
     * liveness key in Redis is taken back at once, instead of after the claim timeout.
     */
    claimedBy: text('claimed_by'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('deliveries_open_idx')
      .on(t.status, t.createdAt)
      .where(sql`${t.status} in ('pending', 'sending')`),
    check('deliveries_status_check', sql`${t.status} in ('pending', 'sending', 'sent', 'failed')`),
    check(
      'deliveries_mode_check',
      sql`${t.mode} in ('channel', 'direct', 'update', 'edit', 'reply')`,
    ),
    index('deliveries_source_idx').on(t.source, t.target).where(sql`${t.source} is not null`),
    index('deliveries_message_ref_idx').on(t.messageRef).where(sql`${t.source} is not null`),
    // Edits and replies find their anchor's other edits.
    index('deliveries_anchor_idx').on(t.anchor, t.id).where(sql`${t.anchor} is not null`),
    // Replies in a card's thread find the card by the message they hang off.
    index('deliveries_posted_ref_idx')
      .on(t.messageRef)
      .where(sql`${t.anchor} is null and ${t.source} is null`),
  ],
);
