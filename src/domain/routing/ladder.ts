import { asc, inArray } from 'drizzle-orm';
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
  return (await contactLadders(db, [orgId], capability)).get(orgId) ?? { people: [], holders: 0 };
}

/** The ladders of several organisations at once, in one query. */
export async function contactLadders(
  db: Queryable,
  orgIds: readonly number[],
  capability: string,
): Promise<Map<number, Ladder>> {
  const ladders = new Map<number, Ladder>(orgIds.map((id) => [id, { people: [], holders: 0 }]));
  if (orgIds.length === 0) return ladders;
  const rows = await db
    .select({
      orgId: contacts.orgId,
      personId: contacts.personId,
      capability: contacts.capability,
    })
    .from(contacts)
    .where(inArray(contacts.orgId, [...orgIds]))
    .orderBy(asc(contacts.rank), asc(contacts.id));
  for (const row of rows) {
    const ladder = ladders.get(row.orgId);
    if (ladder && row.capability === capability) ladder.people.push(row.personId);
  }
  for (const ladder of ladders.values()) ladder.holders = ladder.people.length;
  for (const row of rows) {
    const ladder = ladders.get(row.orgId);
    if (ladder && !ladder.people.includes(row.personId)) ladder.people.push(row.personId);
  }
  return ladders;
}

/** How a person on the ladder is named: `primary`, `backup 2`, `another contact`. */
export function stepName(ladder: Ladder, personId: number): string {
  const step = ladder.people.indexOf(personId);
  if (step === 0) return 'primary';
  return step > 0 && step < ladder.holders ? `backup ${step}` : 'another contact';
}
