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
  unique,
} from 'drizzle-orm/pg-core';

export const SCHEDULED_STATUSES = ['pending', 'done', 'cancelled', 'failed'] as const;
export type ScheduledStatus = (typeof SCHEDULED_STATUSES)[number];

/**
 * Everything Concord must do at a time: the source of truth for reminders, escalations and
 * nags. A BullMQ job only carries `(id, generation)`; rescheduling or cancelling bumps
 * `generation`, so a job made for an older generation finds nothing to do.
 */
export const scheduledItems = pgTable(
  'scheduled_items',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** What to do, e.g. `forum.reminder`; a handler is registered per kind. */
    kind: text('kind').notNull(),
    /** What it is about, unique per kind, e.g. `FS-2027-1/7d`. */
    subject: text('subject').notNull(),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    status: text('status').$type<ScheduledStatus>().notNull().default('pending'),
    generation: integer('generation').notNull().default(1),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** Ids the handler needs; validated by the handler when it runs. */
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    firedAt: timestamp('fired_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('scheduled_items_kind_subject_key').on(t.kind, t.subject),
    index('scheduled_items_pending_due_idx').on(t.dueAt).where(sql`${t.status} = 'pending'`),
    check(
      'scheduled_items_status_check',
      sql`${t.status} in ('pending', 'done', 'cancelled', 'failed')`,
    ),
  ],
);
