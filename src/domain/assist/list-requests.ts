import { and, desc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { assistRequests, routings } from '../../db/schema/assistance.js';
import type { Speaker } from '../directory/speaker.js';
import { routingStatus } from '../routing/cards.js';
import { loadRequestView, type RequestView } from '../routing/subject.js';

export const LIST_LIMIT = 20;

/**
 * `/assist list`: `open` lists the open requests the speaker's organisation made or was asked
 * (admins see all); `mine` lists the speaker's own, open or closed. Newest first.
 */
export async function listRequests(
  db: Queryable,
  speaker: Speaker,
  which: 'open' | 'mine',
): Promise<{ shown: RequestView[]; more: boolean }> {
  const person = speaker.person;
  let where: ReturnType<typeof and>;
  if (which === 'mine') {
    if (!person) return { shown: [], more: false };
    where = eq(assistRequests.requesterId, person.id);
  } else if (speaker.isAdmin) {
    where = eq(assistRequests.status, 'open');
  } else {
    const orgId = person?.org?.id;
    if (!orgId) return { shown: [], more: false };
    where = and(
      eq(assistRequests.status, 'open'),
      or(
        sql`${assistRequests.requesterId} in (select id from people where org_id = ${orgId})`,
        inArray(
          assistRequests.id,
          db
            .select({ id: sql<number>`${routings.requestId}` })
            .from(routings)
            .where(eq(routings.orgId, orgId)),
        ),
      ),
    );
  }
  const rows = await db
    .select()
    .from(assistRequests)
    .where(where)
    .orderBy(desc(assistRequests.id))
    .limit(LIST_LIMIT + 1);
  const shown: RequestView[] = [];
  for (const row of rows.slice(0, LIST_LIMIT)) shown.push(await loadRequestView(db, row));
  return { shown, more: rows.length > LIST_LIMIT };
}

/** One line per request: `AR-2026-7 · urgent · open · forensics · Need … (ACME: accepted)`. */
export function requestLine(view: RequestView, speakerOrg: string | null): string {
  const r = view.request;
  // A party sees its own organisation's answer; the requester's organisation sees them all.
  const visible =
    speakerOrg === null || speakerOrg === view.requester.orgCode
      ? view.routings
      : view.routings.filter((x) => x.orgCode === speakerOrg);
  const answers = visible.map((x) => `${x.orgCode}: ${routingStatus(x)}`).join(', ');
  const need = r.need.length > 80 ? `${r.need.slice(0, 79)}…` : r.need;
  return `${r.ref} · ${r.urgency} · ${r.status === 'open' ? 'open' : `closed (${r.outcome})`} · TLP:${r.tlp.toUpperCase()} · ${r.capability} · ${need}${answers ? ` (${answers})` : ''}`;
}
