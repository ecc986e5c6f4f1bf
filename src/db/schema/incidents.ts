import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';
import type { TlpLevel } from '../../chat/message.js';
import { organisations } from './organisations.js';
import { people } from './people.js';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const INCIDENT_STATUSES = ['active', 'stable', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/**
 * An incident. Its channels are brought to the state the row describes by the provisioner
 * (`provision` is `pending` until every channel exists, has its members and its pinned card, or
 * is archived once closed); a lease keeps two processes from provisioning one incident at once.
 */
export const incidents = pgTable(
  'incidents',
  {
    id: serial('id').primaryKey(),
    ref: text('ref').notNull().unique(),
    title: text('title').notNull(),
    /** `inc-2026-14-ransomware-at-port`: the base name of its channels. */
    channelName: text('channel_name').notNull(),
    severity: text('severity').$type<Severity>().notNull(),
    tlp: text('tlp').$type<TlpLevel>().notNull(),
    status: text('status').$type<IncidentStatus>().notNull().default('active'),
    /** The platform the opener used: the primary channel lives there. */
    platform: text('platform').notNull(),
    openerId: integer('opener_id')
      .notNull()
      .references(() => people.id),
    leadId: integer('lead_id').references(() => people.id),
    summary: text('summary'),
    /** Bumped by every change the channels must show; the provisioner catches up to it. */
    revision: integer('revision').notNull().default(1),
    syncedRevision: integer('synced_revision').notNull().default(0),
    provision: text('provision')
      .$type<'pending' | 'ready' | 'failed'>()
      .notNull()
      .default('pending'),
    /** Why the channels are not ready, in words for the people in the incident. */
    provisionError: text('provision_error'),
    provisionLease: timestamp('provision_lease', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
  },
  (t) => [
    index('incidents_status_idx').on(t.status),
    index('incidents_provision_idx').on(t.provision).where(sql`${t.provision} = 'pending'`),
    check('incidents_status_check', sql`${t.status} in ('active', 'stable', 'closed')`),
    check('incidents_severity_check', sql`${t.severity} in ('low', 'medium', 'high', 'critical')`),
    check('incidents_provision_check', sql`${t.provision} in ('pending', 'ready', 'failed')`),
  ],
);

/** Organisations party to an incident (TLP:AMBER audience). */
export const incidentParties = pgTable(
  'incident_parties',
  {
    incidentId: integer('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    orgId: integer('org_id')
      .notNull()
      .references(() => organisations.id),
  },
  (t) => [primaryKey({ columns: [t.incidentId, t.orgId] })],
);

/** People in an incident's channels: the opener, contacts of the parties, and those invited. */
export const incidentMembers = pgTable(
  'incident_members',
  {
    incidentId: integer('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    personId: integer('person_id')
      .notNull()
      .references(() => people.id),
    addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.incidentId, t.personId] })],
);

/**
 * One channel per platform an incident lives on: the primary where it was opened, and a twin on
 * the other platform when members live there. `name` is recorded before the channel is created,
 * so a crash between creating it and recording `channel` is resumed by finding it by name.
 */
export const incidentChannels = pgTable(
  'incident_channels',
  {
    id: serial('id').primaryKey(),
    incidentId: integer('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull(),
    role: text('role').$type<'primary' | 'twin'>().notNull(),
    name: text('name').notNull(),
    channel: text('channel').unique(),
    /** Set before the first attempt to create it: only then may a channel found by name be adopted. */
    createAttempted: boolean('create_attempted').notNull().default(false),
    card: text('card'),
    cardRevision: integer('card_revision').notNull().default(0),
    pinned: boolean('pinned').notNull().default(false),
    /** Directory ids already invited: invitations are only sent to the others. */
    invited: integer('invited').array().notNull().default(sql`'{}'::integer[]`),
    /** The last timeline entry announced in this channel. */
    announced: integer('announced').notNull().default(0),
    reported: boolean('reported').notNull().default(false),
    archived: boolean('archived').notNull().default(false),
  },
  (t) => [
    unique('incident_channels_platform_key').on(t.incidentId, t.platform),
    check('incident_channels_role_check', sql`${t.role} in ('primary', 'twin')`),
  ],
);

export const TIMELINE_KINDS = ['opened', 'update', 'status', 'lead', 'invite', 'closed'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/** What happened, in order: the source of the status card, the report and the close summary. */
export const incidentTimeline = pgTable(
  'incident_timeline',
  {
    id: serial('id').primaryKey(),
    incidentId: integer('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actorId: integer('actor_id').references(() => people.id),
    kind: text('kind').$type<TimelineKind>().notNull(),
    text: text('text').notNull(),
  },
  (t) => [index('incident_timeline_incident_idx').on(t.incidentId, t.at)],
);
