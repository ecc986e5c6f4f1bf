import { and, asc, eq, exists, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { contacts } from '../../db/schema/contacts.js';
import { organisations } from '../../db/schema/organisations.js';
import { people } from '../../db/schema/people.js';
import { notFound } from '../../errors.js';
import { unknownOrganisation } from '../directory/resolve.js';
import { type OrganisationSummary, organisationColumns } from '../directory/speaker.js';

export interface ContactCard {
  rank: number;
  handle: string;
  name: string;
  tz: string;
  platforms: ('slack' | 'discord')[];
  lastConfirmedAt: Date;
}

export interface OrganisationContacts {
  org: Pick<OrganisationSummary, 'code' | 'name' | 'kind'>;
  contacts: ContactCard[];
}

export interface WhoResult {
  capability: string;
  groups: OrganisationContacts[];
  /** Organisations holding the capability; more than `groups.length` when the answer was cut. */
  totalOrganisations: number;
}

/** How many organisations one `/poc who` answer lists before asking for `org:`. */
export const WHO_PAGE = 10;

const platformsOf = sql<
  ('slack' | 'discord')[]
>`coalesce((select array_agg(pi.platform order by pi.platform) from platform_identities pi where pi.person_id = ${people.id}), '{}')`;

function prepareWho(db: Database, scope: 'org' | 'all') {
  const capability = sql.placeholder('capability');
  const holdsCapability = exists(
    db
      .select({ one: sql`1` })
      .from(contacts)
      .where(and(eq(contacts.orgId, organisations.id), eq(contacts.capability, capability))),
  );
  const holders = db.$with('holders').as(
    db
      .select(organisationColumns)
      .from(organisations)
      .where(scope === 'org' ? eq(organisations.code, sql.placeholder('org')) : holdsCapability)
      .orderBy(asc(organisations.code))
      // A literal, not a parameter: a prepared statement's generic plan must know the page is
      // small, or it hash-joins every contact holding the capability (4 ms instead of 0.5 ms).
      .limit(sql.raw(String(WHO_PAGE)) as unknown as number),
  );
  // Every list has exactly one primary, so counting rank 0 counts the holding organisations
  // without probing each organisation (a window count over them cost 2 ms of the 3).
  const total =
    scope === 'org'
      ? sql<number>`1`
      : sql<number>`(select count(*) from contacts c where c.capability = ${capability} and c.rank = 0)::int`;
  return db
    .with(holders)
    .select({
      code: holders.code,
      orgName: holders.name,
      kind: holders.kind,
      total,
      rank: contacts.rank,
      handle: people.handle,
      name: people.name,
      tz: people.tz,
      platforms: platformsOf,
      lastConfirmedAt: contacts.lastConfirmedAt,
    })
    .from(holders)
    .leftJoin(contacts, and(eq(contacts.orgId, holders.id), eq(contacts.capability, capability)))
    .leftJoin(people, eq(people.id, contacts.personId))
    .orderBy(asc(holders.code), asc(contacts.rank))
    .prepare(`who_${scope}`);
}

// `/poc who` is the directory's hot path: its two statements are built once per database.
const statements = new WeakMap<
  Database,
  { org: ReturnType<typeof prepareWho>; all: ReturnType<typeof prepareWho> }
>();

/**
 * Who to call for a capability: per organisation, primary first, then the backups in order.
 * One round trip: the organisations (one, or the first page of those holding the capability)
 * and their contacts come back together.
 */
export async function findContacts(
  db: Database,
  input: { capability: string; org?: string },
): Promise<WhoResult> {
  let who = statements.get(db);
  if (!who) {
    who = { org: prepareWho(db, 'org'), all: prepareWho(db, 'all') };
    statements.set(db, who);
  }
  const rows = input.org
    ? await who.org.execute({ capability: input.capability, org: input.org })
    : await who.all.execute({ capability: input.capability });

  if (input.org && rows.length === 0) throw unknownOrganisation(input.org);
  const groups: OrganisationContacts[] = [];
  for (const row of rows) {
    let group = groups.at(-1);
    if (group?.org.code !== row.code) {
      group = { org: { code: row.code, name: row.orgName, kind: row.kind }, contacts: [] };
      groups.push(group);
    }
    if (
      row.rank === null ||
      row.handle === null ||
      row.name === null ||
      row.tz === null ||
      row.lastConfirmedAt === null
    )
      continue;
    group.contacts.push({
      rank: row.rank,
      handle: row.handle,
      name: row.name,
      tz: row.tz,
      platforms: row.platforms,
      lastConfirmedAt: row.lastConfirmedAt,
    });
  }
  if (groups.length === 0) {
    throw notFound(
      `nobody holds ${input.capability}: /poc set org:<code> capability:${input.capability} @primary sets one`,
    );
  }
  if (input.org && groups[0]?.contacts.length === 0) {
    throw notFound(
      `${input.org} has no ${input.capability} contact: /poc set org:${input.org} capability:${input.capability} @primary sets one`,
    );
  }
  return { capability: input.capability, groups, totalOrganisations: Number(rows[0]?.total ?? 0) };
}
