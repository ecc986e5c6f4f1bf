import { and, eq, inArray, isNull, lt, or } from 'drizzle-orm';
import type { ChatPlatform } from '../../chat/refs.js';
import type { Database } from '../../db/client.js';
import { contacts } from '../../db/schema/contacts.js';
import { organisations } from '../../db/schema/organisations.js';
import { scheduledItems } from '../../db/schema/scheduled.js';
import type { ItemHandler } from '../../jobs/worker.js';
import { reachPeople } from '../directory/reach.js';

export const CONTACTS_NAG = 'contacts.nag';
export const CONFIRMATION_DAYS = 90;
const DAY_MS = 86_400_000;

/**
 * `contacts.nag`, a daily sweep: each contact unconfirmed for 90 days, and not asked in the
 * last 90, gets one direct message listing every role to confirm; `/poc confirm` answers it.
 */
export function nagStaleContacts(directPlatform: ChatPlatform): ItemHandler {
  return async ({ tx, item, now, deliver }) => {
    const cutoff = new Date(now.getTime() - CONFIRMATION_DAYS * DAY_MS);
    const stale = await tx
      .select({
        id: contacts.id,
        personId: contacts.personId,
        capability: contacts.capability,
        rank: contacts.rank,
        org: organisations.code,
      })
      .from(contacts)
      .innerJoin(organisations, eq(organisations.id, contacts.orgId))
      .where(
        and(
          lt(contacts.lastConfirmedAt, cutoff),
          or(isNull(contacts.naggedAt), lt(contacts.naggedAt, cutoff)),
        ),
      );
    if (stale.length > 0) {
      const reach = await reachPeople(
        tx,
        [...new Set(stale.map((s) => s.personId))],
        directPlatform,
      );
      const asked = new Set<number>();
      for (const person of reach) {
        // Someone Concord cannot reach stays un-asked, so the sweep tries again once it can.
        if (!person.user) continue;
        asked.add(person.personId);
        const roles = stale
          .filter((s) => s.personId === person.personId)
          .map((s) => `${s.org} ${s.capability} (${s.rank === 0 ? 'primary' : `backup ${s.rank}`})`)
          .sort();
        await deliver({
          key: `${item.kind}-${item.id}-${item.generation}/${person.user}`,
          mode: 'direct',
          target: person.user,
          message: {
            title: `Please confirm you are still the point of contact for ${roles.length === 1 ? 'this role' : `these ${roles.length} roles`}`,
            body: roles.join('\n'),
            footer: 'Reply with /poc confirm, or ask an admin to change the list.',
          },
        });
      }
      const nagged = stale.filter((s) => asked.has(s.personId)).map((s) => s.id);
      if (nagged.length > 0) {
        await tx.update(contacts).set({ naggedAt: now }).where(inArray(contacts.id, nagged));
      }
    }
    return { again: new Date(now.getTime() + DAY_MS) };
  };
}

/** Makes sure the daily sweep exists; it is created once and then recurs by itself. */
export async function ensureContactsNag(db: Database, now: Date): Promise<void> {
  await db
    .insert(scheduledItems)
    .values({ kind: CONTACTS_NAG, subject: 'daily', dueAt: new Date(now.getTime() + 60_000) })
    .onConflictDoNothing();
}
