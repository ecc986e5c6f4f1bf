import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  pgTable,
  serial,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';
import type { TlpLevel } from '../../chat/message.js';
import { incidents } from './incidents.js';
import { organisations } from './organisations.js';
import { people } from './people.js';

export const URGENCIES = ['routine', 'urgent', 'critical'] as const;
export type Urgency = (typeof URGENCIES)[number];
export const ALERT_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export const REQUEST_OUTCOMES = ['resolved', 'withdrawn'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/**
 * A request for assistance (`AR-2026-7`). The requester follows it in a direct message Concord
 * sends them (`trackingKey` names that delivery): liaisons' replies arrive in its thread, and the
 * requester's replies there go back to every organisation that has engaged.
 */
export const assistRequests = pgTable(
  'assist_requests',
  {
    id: serial('id').primaryKey(),
    ref: text('ref').notNull().unique(),
    need: text('need').notNull(),
    capability: text('capability').notNull(),
    urgency: text('urgency').$type<Urgency>().notNull(),
    tlp: text('tlp').$type<TlpLevel>().notNull(),
    /** The `to:` as given: `all`, `industry`, `delegations` or `ACME,DEU`. */
    audience: text('audience').notNull(),
    requesterId: integer('requester_id')
      .notNull()
      .references(() => people.id),
    /** The account the request came from: answers go back on that platform. */
    requesterUser: text('requester_user').notNull(),
    trackingKey: text('tracking_key').notNull(),
    incidentId: integer('incident_id').references(() => incidents.id),
    status: text('status').$type<'open' | 'closed'>().notNull().default('open'),
    outcome: text('outcome').$type<RequestOutcome>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
  },
  (t) => [
    check('assist_requests_status_check', sql`${t.status} in ('open', 'closed')`),
    check('assist_requests_urgency_check', sql`${t.urgency} in ('routine', 'urgent', 'critical')`),
    index('assist_requests_requester_idx').on(t.requesterId),
  ],
);

/** An early warning (`EW-2026-3`) to the `early-warning` contacts of the target organisations. */
export const alerts = pgTable('alerts', {
  id: serial('id').primaryKey(),
  ref: text('ref').notNull().unique(),
  text: text('text').notNull(),
  tlp: text('tlp').$type<TlpLevel>().notNull(),
  severity: text('severity').$type<AlertSeverity>().notNull(),
  audience: text('audience').notNull(),
  senderId: integer('sender_id')
    .notNull()
    .references(() => people.id),
  senderUser: text('sender_user').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
});

export const ROUTING_STATUSES = ['waiting', 'accepted', 'declined', 'acknowledged'] as const;
export type RoutingStatus = (typeof ROUTING_STATUSES)[number];

/**
 * One target organisation of a request or an alert: who has been asked so far (`asked`, directory
 * ids in order: the primary, then backups, then the organisation's other contacts) and what the
 * organisation answered. `engagedKey` is the card whose thread the conversation runs in.
 */
export const routings = pgTable(
  'routings',
  {
    id: serial('id').primaryKey(),
    requestId: integer('request_id').references(() => assistRequests.id, { onDelete: 'cascade' }),
    alertId: integer('alert_id').references(() => alerts.id, { onDelete: 'cascade' }),
    orgId: integer('org_id')
      .notNull()
      .references(() => organisations.id),
    status: text('status').$type<RoutingStatus>().notNull().default('waiting'),
    asked: integer('asked').array().notNull(),
    answeredBy: integer('answered_by').references(() => people.id),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    engagedKey: text('engaged_key'),
  },
  (t) => [
    unique('routings_request_org_key').on(t.requestId, t.orgId),
    unique('routings_alert_org_key').on(t.alertId, t.orgId),
    check('routings_subject_check', sql`(${t.requestId} is null) <> (${t.alertId} is null)`),
    check(
      'routings_status_check',
      sql`${t.status} in ('waiting', 'accepted', 'declined', 'acknowledged')`,
    ),
  ],
);

/** A card posted for a routing: in the organisation's inbox, or to one contact directly. */
export const routingCards = pgTable(
  'routing_cards',
  {
    id: serial('id').primaryKey(),
    routingId: integer('routing_id')
      .notNull()
      .references(() => routings.id, { onDelete: 'cascade' }),
    /** The delivery that posts it; its `message_ref` is the card once posted. */
    deliveryKey: text('delivery_key').notNull().unique(),
    /** The inbox channel, or the contact's user reference. */
    target: text('target').notNull(),
    personId: integer('person_id').references(() => people.id),
  },
  (t) => [index('routing_cards_routing_idx').on(t.routingId)],
);
