import { and, asc, eq, gte } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { forumSessions } from '../../db/schema/forum.js';

/** Sessions still to come (and those of the last day), soonest first. */
export async function listSessions(db: Queryable, now: Date) {
  return db
    .select()
    .from(forumSessions)
    .where(
      and(
        eq(forumSessions.status, 'scheduled'),
        gte(forumSessions.startsAt, new Date(now.getTime() - 86_400_000)),
      ),
    )
    .orderBy(asc(forumSessions.startsAt))
    .limit(50);
}
