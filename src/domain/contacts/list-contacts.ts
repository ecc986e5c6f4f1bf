import { and, asc, eq, lt } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { contacts } from '../../db/schema/contacts.js';
import { organisations } from '../../db/schema/organisations.js';
import { people } from '../../db/schema/people.js';
import { requireOrganisation } from '../directory/resolve.js';

export interface ContactListing {
  org: string;
  capability: string;
  rank: number;
  handle: string;
  lastConfirmedAt: Date;
}

/**
 * Every point of contact, by organisation, capability and rank; one organisation's with `org`,
 * only those unconfirmed since `staleBefore`, or one person's, when given.
 */
export async function listContacts(
  db: Queryable,
  input: { org?: string; staleBefore?: Date; personId?: number },
): Promise<ContactListing[]> {
  const conditions = [];
  if (input.org) {
    const org = await requireOrganisation(db, input.org);
    conditions.push(eq(contacts.orgId, org.id));
  }
  if (input.staleBefore) conditions.push(lt(contacts.lastConfirmedAt, input.staleBefore));
  if (input.personId !== undefined) conditions.push(eq(contacts.personId, input.personId));
  return db
    .select({
      org: organisations.code,
      capability: contacts.capability,
      rank: contacts.rank,
      handle: people.handle,
      lastConfirmedAt: contacts.lastConfirmedAt,
    })
    .from(contacts)
    .innerJoin(organisations, eq(organisations.id, contacts.orgId))
    .innerJoin(people, eq(people.id, contacts.personId))
    .where(and(...conditions))
    .orderBy(asc(organisations.code), asc(contacts.capability), asc(contacts.rank));
}
