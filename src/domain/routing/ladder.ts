import { asc, eq } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { contacts } from '../../db/schema/contacts.js';

/** Who to ask at an organisation for a capability, best first. */
export interface Ladder {
  /**
   * Directory ids, each once: the capability's primary, its backups by rank, then the
   * organisation's other points of contact (by their best rank, then by who was added first).
   */
  people: number[];
  /** How many of `people` hold the capability itself (0: the organisation has no such contact). */
  holders: number;
}

export async function contactLadder(
  db: Queryable,
  orgId: number,
  capability: string,
): Promise<Ladder> {
  const rows = await db
    .select({ personId: contacts.personId, capability: contacts.capability, rank: contacts.rank })
    .from(contacts)
    .where(eq(contacts.orgId, orgId))
    .orderBy(asc(contacts.rank), asc(contacts.id));
  const people = rows.filter((r) => r.capability === capability).map((r) => r.personId);
  const holders = people.length;
  for (const row of rows) if (!people.includes(row.personId)) people.push(row.personId);
  return { people, holders };
}

/** How a person on the ladder is named: `primary`, `backup 2`, `another contact`. */
export function stepName(ladder: Ladder, personId: number): string {
  const step = ladder.people.indexOf(personId);
  if (step === 0) return 'primary';
  return step > 0 && step < ladder.holders ? `backup ${step}` : 'another contact';
}
