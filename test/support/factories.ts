import type { Database } from '../../src/db/client.js';
import { contacts, organisations, people, platformIdentities } from '../../src/db/schema/index.js';
import type { OrganisationKind } from '../../src/db/schema/organisations.js';
import type { Role } from '../../src/db/schema/people.js';

let n = 0;
const next = () => ++n;

export async function makeOrganisation(
  db: Database,
  overrides: Partial<{ code: string; name: string; kind: OrganisationKind }> = {},
) {
  const i = next();
  const [org] = await db
    .insert(organisations)
    .values({ code: `ORG${i}`, name: `Organisation ${i}`, kind: 'industry', ...overrides })
    .returning();
  if (!org) throw new Error('no organisation');
  return org;
}

export async function makePerson(
  db: Database,
  overrides: Partial<{
    handle: string;
    name: string;
    orgId: number | null;
    role: Role | null;
    tz: string;
    slack: string;
    discord: string;
  }> = {},
) {
  const i = next();
  const { slack, discord, ...fields } = overrides;
  const [person] = await db
    .insert(people)
    .values({
      handle: `person${i}`,
      name: `Person ${i}`,
      tz: 'UTC',
      orgId: null,
      role: null,
      ...fields,
    })
    .returning();
  if (!person) throw new Error('no person');
  if (slack)
    await db
      .insert(platformIdentities)
      .values({ platform: 'slack', externalId: slack, personId: person.id });
  if (discord)
    await db
      .insert(platformIdentities)
      .values({ platform: 'discord', externalId: discord, personId: person.id });
  return person;
}

export async function makeContact(
  db: Database,
  values: {
    orgId: number;
    personId: number;
    capability?: string;
    rank?: number;
    lastConfirmedAt?: Date;
  },
) {
  const [row] = await db
    .insert(contacts)
    .values({ capability: 'incident-response', rank: 0, ...values })
    .returning();
  if (!row) throw new Error('no contact');
  return row;
}
