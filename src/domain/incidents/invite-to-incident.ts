import { and, eq } from 'drizzle-orm';
import { tlpLabel } from '../../chat/message.js';
import type { Mention } from '../../commands/values.js';
import { contacts } from '../../db/schema/contacts.js';
import { incidentMembers, incidentParties } from '../../db/schema/incidents.js';
import { people } from '../../db/schema/people.js';
import { notFound, tlpViolation, usageError } from '../../errors.js';
import type { DomainContext } from '../context.js';
import { requireMentioned, requireOrganisation } from '../directory/resolve.js';
import { type ChangedIncident, changeIncident, type IncidentTarget } from './change-incident.js';
import { loadIncidentView } from './load-incident.js';
import { INCIDENT_CAPABILITY } from './open-incident.js';

/**
 * `/incident invite @user|org:<code>`: a person, or an organisation's primary incident-response
 * contact. Their organisation becomes a party (TLP:AMBER's audience); at AMBER+STRICT an incident
 * stays with one organisation.
 */
export async function inviteToIncident({
  ctx,
  target,
  who,
}: {
  ctx: DomainContext;
  target: IncidentTarget;
  who: { person: Mention } | { org: string };
}): Promise<ChangedIncident & { invited: string }> {
  let invited = '';
  const changed = await changeIncident(ctx, target, 'incident.invite', async (tx, incident) => {
    let personId: number;
    let orgId: number | null;
    let orgCode: string | null;
    if ('org' in who) {
      const org = await requireOrganisation(tx, who.org.toUpperCase());
      const [primary] = await tx
        .select({ id: people.id, handle: people.handle, name: people.name })
        .from(contacts)
        .innerJoin(people, eq(people.id, contacts.personId))
        .where(
          and(
            eq(contacts.orgId, org.id),
            eq(contacts.capability, INCIDENT_CAPABILITY),
            eq(contacts.rank, 0),
          ),
        );
      if (!primary) {
        throw notFound(
          `${org.code} has no ${INCIDENT_CAPABILITY} contact: /poc set org:${org.code} capability:${INCIDENT_CAPABILITY} @someone, or invite a person`,
        );
      }
      personId = primary.id;
      orgId = org.id;
      orgCode = org.code;
      invited = `${primary.name} (@${primary.handle}, ${org.code})`;
    } else {
      const person = await requireMentioned(tx, who.person);
      personId = person.id;
      orgId = person.org?.id ?? null;
      orgCode = person.org?.code ?? null;
      invited = `${person.name} (@${person.handle}${orgCode ? `, ${orgCode}` : ''})`;
    }
    const view = await loadIncidentView(tx, incident);
    if (view.memberIds.includes(personId))
      throw usageError(`${invited} is already in ${incident.ref}`);
    const newParty = orgId !== null && !view.parties.some((p) => p.id === orgId);
    if (incident.tlp === 'amber+strict' && newParty) {
      throw tlpViolation(
        `${tlpLabel(incident.tlp)} keeps ${incident.ref} to ${view.parties.map((p) => p.code).join(', ')}; ${orgCode} would share its channel`,
      );
    }
    if (newParty && orgId !== null) {
      await tx.insert(incidentParties).values({ incidentId: incident.id, orgId });
    }
    await tx
      .insert(incidentMembers)
      .values({ incidentId: incident.id, personId, addedAt: ctx.now });
    return {
      kind: 'invite',
      text: invited,
      detail: { personId, ...(newParty ? { party: orgCode } : {}) },
    };
  });
  return { ...changed, invited };
}
