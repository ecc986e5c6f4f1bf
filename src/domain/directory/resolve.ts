import { and, eq } from 'drizzle-orm';
import type { Mention } from '../../commands/values.js';
import type { Queryable } from '../../db/client.js';
import { organisations } from '../../db/schema/organisations.js';
import { people, platformIdentities } from '../../db/schema/people.js';
import { notFound } from '../../errors.js';
import {
  type OrganisationSummary,
  organisationColumns,
  type Person,
  selectPeople,
  selectPeopleByIdentity,
  toPerson,
} from './speaker.js';

/** The organisation with this code, or a not_found error saying so. */
export async function requireOrganisation(
  db: Queryable,
  code: string,
): Promise<OrganisationSummary> {
  const [org] = await db
    .select(organisationColumns)
    .from(organisations)
    .where(eq(organisations.code, code));
  if (!org) throw unknownOrganisation(code);
  return org;
}

export const unknownOrganisation = (code: string) =>
  notFound(`unknown organisation ${code}: /org list shows them, /org add creates one`);

/** The directory person a mention names, or null. */
export async function findMentioned(db: Queryable, mention: Mention): Promise<Person | null> {
  const rows =
    mention.kind === 'handle'
      ? await selectPeople(db).where(eq(people.handle, mention.id))
      : await selectPeopleByIdentity(db).where(
          and(
            eq(platformIdentities.platform, mention.kind),
            eq(platformIdentities.externalId, mention.id),
          ),
        );
  const row = rows[0];
  return row ? toPerson(row) : null;
}

/** The directory person a mention names, or a not_found error saying how to add them. */
export async function requireMentioned(db: Queryable, mention: Mention): Promise<Person> {
  const person = await findMentioned(db, mention);
  if (!person) {
    throw notFound(
      `${mention.raw} is not in the directory: an admin adds them with /org member ${mention.raw} org:<code> role:<role>`,
    );
  }
  return person;
}

export async function requirePersonById(db: Queryable, id: number): Promise<Person> {
  const [row] = await selectPeople(db).where(eq(people.id, id));
  if (!row) throw notFound(`person ${id} is not in the directory`);
  return toPerson(row);
}
