import { and, asc, eq, exists, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { contacts } from '../../db/schema/contacts.js';
import { organisations } from '../../db/schema/organisations.js';
import { people } from '../../db/schema/people.js';
import { notFound } from '../../errors.js';
import { requireOrganisation } from '../directory/resolve.js';
import type { OrganisationSummary } from '../directory/speaker.js';

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
export const WHO_PAGE = 15;

const platformsOf = sql<
  ('slack' | 'discord')[]
>`coalesce((select array_agg(pi.platform order by pi.platform) from platform_identities pi where pi.person_id = ${people.id}), '{}')`;

/** Who to call for a capability: per organisation, primary first, then the backups in order. */
export async function findContacts(
  db: Queryable,
  input: { capability: string; org?: string },
): Promise<WhoResult> {
  let orgs: Pick<OrganisationSummary, 'id' | 'code' | 'name' | 'kind'>[];
  let total: number;
  if (input.org) {
    orgs = [await requireOrganisation(db, input.org)];
    total = 1;
  } else {
    const holders = await db
      .select({
        id: organisations.id,
        code: organisations.code,
        name: organisations.name,
        kind: organisations.kind,
        total: sql<number>`count(*) over ()`,
      })
      .from(organisations)
      .where(
        exists(
          db
            .select({ one: sql`1` })
            .from(contacts)
            .where(
              and(eq(contacts.orgId, organisations.id), eq(contacts.capability, input.capability)),
            ),
        ),
      )
      .orderBy(asc(organisations.code))
      .limit(WHO_PAGE);
    orgs = holders;
    total = Number(holders[0]?.total ?? 0);
  }
  if (orgs.length === 0) {
    throw notFound(
      `nobody holds ${input.capability}: /poc set org:<code> capability:${input.capability} @primary sets one`,
    );
  }

  const rows = await db
    .select({
      orgId: contacts.orgId,
      rank: contacts.rank,
      handle: people.handle,
      name: people.name,
      tz: people.tz,
      platforms: platformsOf,
      lastConfirmedAt: contacts.lastConfirmedAt,
    })
    .from(contacts)
    .innerJoin(people, eq(people.id, contacts.personId))
    .where(
      and(
        eq(contacts.capability, input.capability),
        inArray(
          contacts.orgId,
          orgs.map((o) => o.id),
        ),
      ),
    )
    .orderBy(asc(contacts.orgId), asc(contacts.rank));

  const groups = orgs.map((org) => ({
    org: { code: org.code, name: org.name, kind: org.kind },
    contacts: rows.filter((r) => r.orgId === org.id).map(({ orgId: _orgId, ...card }) => card),
  }));
  if (input.org && groups[0]?.contacts.length === 0) {
    throw notFound(
      `${input.org} has no ${input.capability} contact: /poc set org:${input.org} capability:${input.capability} @primary sets one`,
    );
  }
  return { capability: input.capability, groups, totalOrganisations: total };
}
