import { and, eq, sql } from 'drizzle-orm';
import type { UserRef } from '../../chat/refs.js';
import { localPart, platformOf } from '../../chat/refs.js';
import type { Database, Queryable } from '../../db/client.js';
import type { OrganisationKind } from '../../db/schema/organisations.js';
import { organisations } from '../../db/schema/organisations.js';
import { people, platformIdentities, type Role } from '../../db/schema/people.js';

export interface OrganisationSummary {
  id: number;
  code: string;
  name: string;
  kind: OrganisationKind;
}

export interface Person {
  id: number;
  handle: string;
  name: string;
  tz: string;
  org: OrganisationSummary | null;
  role: Role | null;
}

/** Whoever issued a command: their reference, their directory entry if any, and admin rights. */
export interface Speaker {
  ref: UserRef;
  person: Person | null;
  isAdmin: boolean;
}

/** The columns of an OrganisationSummary. */
export const organisationColumns = {
  id: organisations.id,
  code: organisations.code,
  name: organisations.name,
  kind: organisations.kind,
};

export const personColumns = {
  id: people.id,
  handle: people.handle,
  name: people.name,
  tz: people.tz,
  role: people.role,
  orgId: organisations.id,
  orgCode: organisations.code,
  orgName: organisations.name,
  orgKind: organisations.kind,
};

type PersonRow = {
  id: number;
  handle: string;
  name: string;
  tz: string;
  role: Role | null;
  orgId: number | null;
  orgCode: string | null;
  orgName: string | null;
  orgKind: OrganisationKind | null;
};

export function toPerson(row: PersonRow): Person {
  const org =
    row.orgId !== null && row.orgCode !== null && row.orgName !== null && row.orgKind !== null
      ? { id: row.orgId, code: row.orgCode, name: row.orgName, kind: row.orgKind }
      : null;
  return { id: row.id, handle: row.handle, name: row.name, tz: row.tz, role: row.role, org };
}

// Every command looks its speaker up: these statements are built once per database, not per call.
const statements = new WeakMap<Database, ReturnType<typeof prepareLookups>>();

/** People with their organisation; add a `where`. */
export const selectPeople = (db: Queryable) =>
  db.select(personColumns).from(people).leftJoin(organisations, eq(organisations.id, people.orgId));

/** People with their organisation, reached through a platform identity; add a `where`. */
export const selectPeopleByIdentity = (db: Queryable) =>
  db
    .select(personColumns)
    .from(platformIdentities)
    .innerJoin(people, eq(people.id, platformIdentities.personId))
    .leftJoin(organisations, eq(organisations.id, people.orgId));

function prepareLookups(db: Database) {
  return {
    byHandle: selectPeople(db)
      .where(eq(people.handle, sql.placeholder('id')))
      .prepare('person_by_handle'),
    byIdentity: selectPeopleByIdentity(db)
      .where(
        and(
          eq(platformIdentities.platform, sql.placeholder('platform')),
          eq(platformIdentities.externalId, sql.placeholder('id')),
        ),
      )
      .prepare('person_by_identity'),
  };
}

/**
 * The directory person behind a chat user: by platform identity on Slack and Discord, by handle
 * in the shell. Null when they are not in the directory.
 */
export async function findPersonByRef(db: Database, ref: UserRef): Promise<Person | null> {
  let lookups = statements.get(db);
  if (!lookups) {
    lookups = prepareLookups(db);
    statements.set(db, lookups);
  }
  const platform = platformOf(ref);
  const id = localPart(ref);
  const rows =
    platform === 'shell'
      ? await lookups.byHandle.execute({ id })
      : await lookups.byIdentity.execute({ platform, id });
  const row = rows[0];
  return row ? toPerson(row) : null;
}

/**
 * `findPersonByRef` on an open transaction (or any handle), unprepared: for a path that decides
 * something on the person inside its transaction (a relay's audience and attribution).
 */
export async function findPersonByRefIn(q: Queryable, ref: UserRef): Promise<Person | null> {
  const platform = platformOf(ref);
  const id = localPart(ref);
  const rows =
    platform === 'shell'
      ? await selectPeople(q).where(eq(people.handle, id))
      : await selectPeopleByIdentity(q).where(
          and(eq(platformIdentities.platform, platform), eq(platformIdentities.externalId, id)),
        );
  const row = rows[0];
  return row ? toPerson(row) : null;
}

/** Admins are the bootstrap list from configuration plus directory people with the admin role. */
export async function findSpeaker(
  db: Database,
  ref: UserRef,
  bootstrapAdmins: ReadonlySet<string>,
): Promise<Speaker> {
  const person = await findPersonByRef(db, ref);
  return { ref, person, isAdmin: bootstrapAdmins.has(ref) || person?.role === 'admin' };
}
