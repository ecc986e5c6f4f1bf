import { and, desc, eq, exists, inArray, ne, or, type SQL } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import {
  type IncidentStatus,
  incidentMembers,
  incidentParties,
  incidents,
} from '../../db/schema/incidents.js';
import type { Speaker } from '../directory/speaker.js';
import { type Incident, partyCodes } from './load-incident.js';

export const LIST_LIMIT = 25;

export interface ListedIncident {
  incident: Incident;
  parties: string[];
}

/**
 * `/incident list [status]`: open ones (active and stable) unless a status is given, newest
 * first. Only incidents the speaker may know of: they are in it, or their organisation is a
 * party to it and it is below TLP:RED; admins see all.
 */
export async function listIncidents(
  db: Queryable,
  speaker: Speaker,
  status: IncidentStatus | 'open' | 'all',
): Promise<{ shown: ListedIncident[]; total: number }> {
  const conditions: SQL[] = [];
  if (status === 'open') conditions.push(inArray(incidents.status, ['active', 'stable']));
  else if (status !== 'all') conditions.push(eq(incidents.status, status));
  if (!speaker.isAdmin) {
    const person = speaker.person;
    if (!person) return { shown: [], total: 0 };
    const visible = [
      exists(
        db
          .select({ one: incidentMembers.personId })
          .from(incidentMembers)
          .where(
            and(
              eq(incidentMembers.incidentId, incidents.id),
              eq(incidentMembers.personId, person.id),
            ),
          ),
      ),
    ];
    if (person.org) {
      // A party's members see its incidents, except at TLP:RED: those only their own members
      // (as `mayRead` and `/incident report` have it).
      visible.push(
        and(
          ne(incidents.tlp, 'red'),
          exists(
            db
              .select({ one: incidentParties.orgId })
              .from(incidentParties)
              .where(
                and(
                  eq(incidentParties.incidentId, incidents.id),
                  eq(incidentParties.orgId, person.org.id),
                ),
              ),
          ),
        ) as SQL,
      );
    }
    const anyVisible = or(...visible);
    if (anyVisible) conditions.push(anyVisible);
  }
  const rows = await db
    .select()
    .from(incidents)
    .where(and(...conditions))
    .orderBy(desc(incidents.createdAt), desc(incidents.id))
    .limit(LIST_LIMIT + 1);
  const shown = rows.slice(0, LIST_LIMIT);
  const codes = await partyCodes(
    db,
    shown.map((r) => r.id),
  );
  return {
    shown: shown.map((incident) => ({ incident, parties: codes.get(incident.id) ?? [] })),
    total: rows.length,
  };
}

/** Whether the speaker may read an incident: a member, a party's member, or an admin. */
export async function mayRead(
  db: Queryable,
  speaker: Speaker,
  incident: Incident,
): Promise<boolean> {
  if (speaker.isAdmin) return true;
  const person = speaker.person;
  if (!person) return false;
  const [member] = await db
    .select({ one: incidentMembers.personId })
    .from(incidentMembers)
    .where(
      and(eq(incidentMembers.incidentId, incident.id), eq(incidentMembers.personId, person.id)),
    );
  if (member) return true;
  if (!person.org || incident.tlp === 'red') return false;
  const [party] = await db
    .select({ one: incidentParties.orgId })
    .from(incidentParties)
    .where(
      and(eq(incidentParties.incidentId, incident.id), eq(incidentParties.orgId, person.org.id)),
    );
  return Boolean(party);
}
