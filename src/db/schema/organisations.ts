import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  integer,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

export const ORGANISATION_KINDS = ['delegation', 'industry', 'organiser'] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];

export const organisations = pgTable(
  'organisations',
  {
    id: serial('id').primaryKey(),
    code: text('code').notNull().unique(),
    name: text('name').notNull(),
    kind: text('kind').$type<OrganisationKind>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('organisations_kind_check', sql`${t.kind} in ('delegation', 'industry', 'organiser')`),
    check('organisations_code_check', sql`${t.code} ~ '^[A-Z0-9]{2,10}$'`),
  ],
);

/** The channel, per platform, where routed requests for an organisation land (`/org inbox`). */
export const orgInboxes = pgTable(
  'org_inboxes',
  {
    orgId: integer('org_id')
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull(),
    channel: text('channel').notNull(),
    /** Whether only invited members can read it, as the platform said when it was set (null: unknown). */
    private: boolean('private'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.platform] })],
);
