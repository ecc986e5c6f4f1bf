import { sql } from 'drizzle-orm';
import {
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
import { organisations } from './organisations.js';

export const ROLES = ['delegate', 'liaison', 'organiser', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * A person in the directory. `handle` is their directory name (`@handle` in the shell and in
 * commands on any platform). A person belongs to at most one organisation, with one role there.
 */
export const people = pgTable(
  'people',
  {
    id: serial('id').primaryKey(),
    handle: text('handle').notNull().unique(),
    name: text('name').notNull(),
    orgId: integer('org_id').references(() => organisations.id),
    role: text('role').$type<Role>(),
    tz: text('tz').notNull().default('UTC'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('people_role_check', sql`${t.role} in ('delegate', 'liaison', 'organiser', 'admin')`),
    check('people_handle_check', sql`${t.handle} ~ '^[a-z0-9][a-z0-9._-]{0,39}$'`),
    check('people_membership_check', sql`(${t.orgId} is null) = (${t.role} is null)`),
    index('people_org_idx').on(t.orgId),
  ],
);

/** One row per chat account: the same person may be reachable on Slack and on Discord. */
export const platformIdentities = pgTable(
  'platform_identities',
  {
    platform: text('platform').$type<'slack' | 'discord'>().notNull(),
    externalId: text('external_id').notNull(),
    personId: integer('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ columns: [t.platform, t.externalId] }),
    unique('platform_identities_person_platform_key').on(t.personId, t.platform),
    check('platform_identities_platform_check', sql`${t.platform} in ('slack', 'discord')`),
  ],
);
