import { eq, sql } from 'drizzle-orm';
import type { ChannelRef } from '../../chat/refs.js';
import type { Transaction } from '../../db/client.js';
import { incidents, incidentTimeline, type TimelineKind } from '../../db/schema/incidents.js';
import { conflict } from '../../errors.js';
import type { ItemRef } from '../../jobs/items.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { type Incident, requireIncidentMember, resolveIncident } from './load-incident.js';

/** Which incident a change is for: `incident:<ref>`, or the channel the command came from. */
export interface IncidentTarget {
  ref?: string | undefined;
  channel: ChannelRef;
}

export interface Change {
  kind: TimelineKind;
  /** The timeline line, e.g. `status stable: contained`. */
  text: string;
  /** Columns of the incident to set with the change. */
  set?: Partial<Pick<Incident, 'status' | 'leadId' | 'summary' | 'closedAt'>>;
  detail?: Record<string, unknown>;
  items?: ItemRef[];
}

export interface ChangedIncident {
  incident: Incident;
  items: ItemRef[];
}

/**
 * The shape every change to an incident shares: lock the row, check the speaker is in it and it
 * is not closed, make the change, add the timeline entry and the audit row, and bump the revision
 * so the provisioner brings the channels (card, announcement) up to date. One transaction.
 */
export async function changeIncident(
  ctx: DomainContext,
  target: IncidentTarget,
  action: string,
  decide: (tx: Transaction, incident: Incident) => Promise<Change>,
): Promise<ChangedIncident> {
  return ctx.db.transaction(async (tx) => {
    const incident = await resolveIncident(tx, target, { forUpdate: true });
    await requireIncidentMember(tx, incident, ctx.speaker);
    if (incident.status === 'closed') {
      throw conflict(`${incident.ref} is closed; open a new incident to carry on`);
    }
    const change = await decide(tx, incident);
    const [updated] = await tx
      .update(incidents)
      .set({
        ...change.set,
        revision: sql`${incidents.revision} + 1`,
        provision: 'pending',
      })
      .where(eq(incidents.id, incident.id))
      .returning();
    if (!updated) throw new Error(`incident ${incident.ref} vanished under its lock`);
    await tx.insert(incidentTimeline).values({
      incidentId: incident.id,
      at: ctx.now,
      actorId: ctx.speaker.person?.id ?? null,
      kind: change.kind,
      text: change.text,
    });
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action,
      subject: `incident:${incident.ref}`,
      detail: { text: change.text, ...change.detail },
    });
    return { incident: updated, items: change.items ?? [] };
  });
}
