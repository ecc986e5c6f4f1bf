import { sql } from 'drizzle-orm';
import {
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';
import type { TlpLevel } from '../../chat/message.js';
import type { LocalDateTime } from '../../commands/values.js';
import { people } from './people.js';

/**
 * A forum session. `startsAt` is the instant; `tz` and `anchor` (the wall-clock time the organiser
 * chose) let a yearly session keep its local time, DST and 29 February included.
 */
export const forumSessions = pgTable(
  'forum_sessions',
  {
    id: serial('id').primaryKey(),
    ref: text('ref').notNull().unique(),
    title: text('title').notNull(),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    tz: text('tz').notNull(),
    anchor: jsonb('anchor').$type<LocalDateTime>().notNull(),
    repeat: text('repeat').$type<'none' | 'yearly'>().notNull().default('none'),
    /** Reminder offsets before the start, in milliseconds, largest first. */
    reminders: jsonb('reminders').$type<number[]>().notNull(),
    tlp: text('tlp').$type<TlpLevel>().notNull().default('amber'),
    channel: text('channel').notNull(),
    organiserId: integer('organiser_id').references(() => people.id),
    status: text('status')
      .$type<'scheduled' | 'held' | 'cancelled'>()
      .notNull()
      .default('scheduled'),
    /** The session this one follows, for yearly series. */
    previousId: integer('previous_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('forum_sessions_title_start_key').on(t.title, t.startsAt),
    index('forum_sessions_start_idx').on(t.startsAt),
    check('forum_sessions_status_check', sql`${t.status} in ('scheduled', 'held', 'cancelled')`),
    check('forum_sessions_repeat_check', sql`${t.repeat} in ('none', 'yearly')`),
  ],
);

export const forumParticipants = pgTable(
  'forum_participants',
  {
    sessionId: integer('session_id')
      .notNull()
      .references(() => forumSessions.id, { onDelete: 'cascade' }),
    personId: integer('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.personId] })],
);

/** An action item from a session, chased until its owner marks it done. */
export const forumActions = pgTable(
  'forum_actions',
  {
    id: serial('id').primaryKey(),
    sessionId: integer('session_id')
      .notNull()
      .references(() => forumSessions.id, { onDelete: 'cascade' }),
    text: text('text').notNull(),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => people.id),
    due: date('due', { mode: 'string' }).notNull(),
    status: text('status').$type<'open' | 'done'>().notNull().default('open'),
    doneAt: timestamp('done_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('forum_actions_session_idx').on(t.sessionId),
    check('forum_actions_status_check', sql`${t.status} in ('open', 'done')`),
  ],
);
