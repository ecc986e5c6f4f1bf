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
import { organisations } from './organisations.js';
import { people } from './people.js';

/**
 * Points of contact: for an organisation and a capability, rank 0 is the primary and 1.. the
 * ordered backups. `lastConfirmedAt` moves when the contact runs `/poc confirm`.
 */
export const contacts = pgTable(
  'contacts',
  {
    id: serial('id').primaryKey(),
    orgId: integer('org_id')
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    capability: text('capability').notNull(),
    personId: integer('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    rank: integer('rank').notNull(),
    lastConfirmedAt: timestamp('last_confirmed_at', { withTimezone: true }).notNull().defaultNow(),
    /** When the contact was last asked to confirm; one nag per confirmation period. */
    naggedAt: timestamp('nagged_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('contacts_org_capability_rank_key').on(t.orgId, t.capability, t.rank),
    unique('contacts_org_capability_person_key').on(t.orgId, t.capability, t.personId),
    index('contacts_capability_org_rank_idx').on(t.capability, t.orgId, t.rank),
    index('contacts_person_idx').on(t.personId),
    // The primaries: one per list, so counting them counts the organisations holding a capability.
    index('contacts_primary_capability_idx').on(t.capability).where(sql`${t.rank} = 0`),
    check('contacts_rank_check', sql`${t.rank} >= 0`),
    check('contacts_capability_check', sql`${t.capability} ~ '^[a-z0-9][a-z0-9-]{0,39}$'`),
  ],
);
