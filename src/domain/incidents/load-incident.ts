import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { ChannelRef } from '../../chat/refs.js';
import type { Queryable } from '../../db/client.js';
import {
  incidentChannels,
  incidentMembers,
  incidentParties,
  incidents,
} from '../../db/schema/incidents.js';
import { organisations } from '../../db/schema/organisations.js';
import { people } from '../../db/schema/people.js';
import { forbidden, notFound, usageError } from '../../errors.js';
import type { Speaker } from '../directory/speaker.js';

export type Incident = typeof incidents.$inferSelect;
export type IncidentChannel = typeof incidentChannels.$inferSelect;

/** A person in an incident, with what the card shows and where they can be reached. */
export interface IncidentMember {
  id: number;
  name: string;
  handle: string;
  org: string | null;
  slack: string | null;
  discord: string | null;
}

/** An incident with who is in it: the parties' codes and the members. */
export interface IncidentView {
  incident: Incident;
  /** By code. */
  parties: { id: number; code: string }[];
  /** In the order they were added, then by id. */
  members: IncidentMember[];
  memberIds: number[];
  channels: IncidentChannel[];
}

/**
 * The columns of an IncidentMember: select from `people` left-joined to `organisations` on
 * `people.org_id`. The platform ids come from correlated subqueries, so one row per person.
 */
export const memberColumns = {
  id: people.id,
  name: people.name,
  handle: people.handle,
  org: organisations.code,
  slack: sql<
    string | null
  >`(select external_id from platform_identities where person_id = ${people.id} and platform = 'slack')`,
  discord: sql<
    string | null
  >`(select external_id from platform_identities where person_id = ${people.id} and platform = 'discord')`,
};

export async function loadIncidentView(db: Queryable, incident: Incident): Promise<IncidentView> {
  const [parties, members, channels] = await Promise.all([
    db
      .select({ id: organisations.id, code: organisations.code })
      .from(incidentParties)
      .innerJoin(organisations, eq(organisations.id, incidentParties.orgId))
      .where(eq(incidentParties.incidentId, incident.id))
      .orderBy(asc(organisations.code)),
    db
      .select(memberColumns)
      .from(incidentMembers)
      .innerJoin(people, eq(people.id, incidentMembers.personId))
      .leftJoin(organisations, eq(organisations.id, people.orgId))
      .where(eq(incidentMembers.incidentId, incident.id))
      .orderBy(asc(incidentMembers.addedAt), asc(incidentMembers.personId)),
    db
      .select()
      .from(incidentChannels)
      .where(eq(incidentChannels.incidentId, incident.id))
      .orderBy(asc(incidentChannels.id)),
  ]);
  return { incident, parties, members, memberIds: members.map((m) => m.id), channels };
}

/** The incident whose channel (or twin channel) this is, if any. */
export async function findIncidentByChannel(
  db: Queryable,
  channel: ChannelRef,
): Promise<Incident | null> {
  const [row] = await db
    .select({ incident: incidents })
    .from(incidentChannels)
    .innerJoin(incidents, eq(incidents.id, incidentChannels.incidentId))
    .where(eq(incidentChannels.channel, channel));
  return row?.incident ?? null;
}

/**
 * The incident a command is about: `ref` when given, otherwise the incident whose channel the
 * command was run in. `forUpdate` locks the row for the caller's transaction.
 */
export async function resolveIncident(
  db: Queryable,
  target: { ref?: string | undefined; channel: ChannelRef },
  options: { forUpdate?: boolean } = {},
): Promise<Incident> {
  let incident: Incident | null;
  if (target.ref) {
    const ref = target.ref.toUpperCase();
    const query = db.select().from(incidents).where(eq(incidents.ref, ref));
    [incident = null] = options.forUpdate ? await query.for('update') : await query;
    if (!incident) throw notFound(`no incident ${ref}: /incident list shows the open ones`);
  } else {
    incident = await findIncidentByChannel(db, target.channel);
    if (!incident) {
      throw usageError(`run this in an incident's channel, or name it with incident:<INC-ref>`);
    }
    if (options.forUpdate) {
      [incident = null] = await db
        .select()
        .from(incidents)
        .where(eq(incidents.id, incident.id))
        .for('update');
      if (!incident) throw notFound('that incident no longer exists');
    }
  }
  return incident;
}

/** Only the people in an incident (and admins) may change it. */
export async function requireIncidentMember(
  db: Queryable,
  incident: Incident,
  speaker: Speaker,
): Promise<void> {
  if (speaker.isAdmin) return;
  const person = speaker.person;
  if (person) {
    const [row] = await db
      .select({ personId: incidentMembers.personId })
      .from(incidentMembers)
      .where(
        and(eq(incidentMembers.incidentId, incident.id), eq(incidentMembers.personId, person.id)),
      );
    if (row) return;
  }
  throw forbidden(
    `only the people in ${incident.ref} may change it; ask one of them to invite you`,
  );
}

/** Organisation codes by id, for the parties of several incidents at once. */
export async function partyCodes(
  db: Queryable,
  incidentIds: readonly number[],
): Promise<Map<number, string[]>> {
  const byIncident = new Map<number, string[]>();
  if (incidentIds.length === 0) return byIncident;
  const rows = await db
    .select({ incidentId: incidentParties.incidentId, code: organisations.code })
    .from(incidentParties)
    .innerJoin(organisations, eq(organisations.id, incidentParties.orgId))
    .where(inArray(incidentParties.incidentId, [...incidentIds]))
    .orderBy(asc(organisations.code));
  for (const row of rows)
    byIncident.set(row.incidentId, [...(byIncident.get(row.incidentId) ?? []), row.code]);
  return byIncident;
}
