import { and, eq } from 'drizzle-orm';
import type { Mention } from '../../commands/values.js';
import { incidentMembers } from '../../db/schema/incidents.js';
import { usageError } from '../../errors.js';
import type { DomainContext } from '../context.js';
import { requireMentioned } from '../directory/resolve.js';
import { type ChangedIncident, changeIncident, type IncidentTarget } from './change-incident.js';

/** `/incident lead @user`: the lead must already be in the incident (invite them first). */
export async function setLead({
  ctx,
  target,
  lead,
}: {
  ctx: DomainContext;
  target: IncidentTarget;
  lead: Mention;
}): Promise<ChangedIncident> {
  return changeIncident(ctx, target, 'incident.lead', async (tx, incident) => {
    const person = await requireMentioned(tx, lead);
    const [member] = await tx
      .select({ personId: incidentMembers.personId })
      .from(incidentMembers)
      .where(
        and(eq(incidentMembers.incidentId, incident.id), eq(incidentMembers.personId, person.id)),
      );
    if (!member) {
      throw usageError(
        `@${person.handle} is not in ${incident.ref}: /incident invite @${person.handle} first`,
      );
    }
    return {
      kind: 'lead',
      text: `${person.name} (@${person.handle})`,
      set: { leadId: person.id },
      detail: { lead: person.handle },
    };
  });
}
