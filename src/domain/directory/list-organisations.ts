import { asc, count, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { type OrganisationKind, organisations, orgInboxes } from '../../db/schema/organisations.js';
import { people } from '../../db/schema/people.js';

export interface OrganisationListing {
  code: string;
  name: string;
  kind: OrganisationKind;
  members: number;
  inboxes: string[];
}

export async function listOrganisations(
  db: Queryable,
  kind?: OrganisationKind,
): Promise<OrganisationListing[]> {
  const memberCounts = db
    .select({ orgId: people.orgId, members: count().as('members') })
    .from(people)
    .groupBy(people.orgId)
    .as('member_counts');
  const inboxes = db
    .select({
      orgId: orgInboxes.orgId,
      platforms: sql<
        string[]
      >`array_agg(${orgInboxes.platform} order by ${orgInboxes.platform})`.as('platforms'),
    })
    .from(orgInboxes)
    .groupBy(orgInboxes.orgId)
    .as('inboxes');
  const rows = await db
    .select({
      code: organisations.code,
      name: organisations.name,
      kind: organisations.kind,
      members: sql<number>`coalesce(${memberCounts.members}, 0)::int`,
      inboxes: sql<string[] | null>`${inboxes.platforms}`,
    })
    .from(organisations)
    .leftJoin(memberCounts, eq(memberCounts.orgId, organisations.id))
    .leftJoin(inboxes, eq(inboxes.orgId, organisations.id))
    .where(kind ? eq(organisations.kind, kind) : undefined)
    .orderBy(asc(organisations.kind), asc(organisations.code));
  return rows.map((r) => ({ ...r, members: Number(r.members), inboxes: r.inboxes ?? [] }));
}
