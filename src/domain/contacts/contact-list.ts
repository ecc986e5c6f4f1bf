import { and, asc, eq } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { contacts } from '../../db/schema/contacts.js';
import { people } from '../../db/schema/people.js';

export interface ContactEntry {
  personId: number;
  handle: string;
  lastConfirmedAt: Date;
}

/** The contacts for one organisation and capability, primary first. */
export async function readContactList(
  db: Queryable,
  orgId: number,
  capability: string,
): Promise<ContactEntry[]> {
  return db
    .select({
      personId: contacts.personId,
      handle: people.handle,
      lastConfirmedAt: contacts.lastConfirmedAt,
    })
    .from(contacts)
    .innerJoin(people, eq(people.id, contacts.personId))
    .where(and(eq(contacts.orgId, orgId), eq(contacts.capability, capability)))
    .orderBy(asc(contacts.rank));
}

/**
 * Replaces the ordered list in place: index 0 becomes the primary. Rows are rewritten rather than
 * re-ranked because `(org, capability, rank)` is unique and checked row by row.
 */
export async function writeContactList(
  tx: Queryable,
  orgId: number,
  capability: string,
  entries: readonly { personId: number; lastConfirmedAt: Date }[],
): Promise<void> {
  await tx
    .delete(contacts)
    .where(and(eq(contacts.orgId, orgId), eq(contacts.capability, capability)));
  if (entries.length === 0) return;
  await tx.insert(contacts).values(
    entries.map((e, rank) => ({
      orgId,
      capability,
      personId: e.personId,
      rank,
      lastConfirmedAt: e.lastConfirmedAt,
    })),
  );
}

export const sameOrder = (a: readonly { personId: number }[], b: readonly { personId: number }[]) =>
  a.length === b.length && a.every((e, i) => e.personId === b[i]?.personId);
