import { and, eq, inArray } from 'drizzle-orm';
import { type TlpLevel, tlpLabel } from '../../chat/message.js';
import { type ChatPlatform, platformOf, type UserRef } from '../../chat/refs.js';
import { contacts } from '../../db/schema/contacts.js';
import {
  incidentMembers,
  incidentParties,
  incidents,
  incidentTimeline,
  type Severity,
} from '../../db/schema/incidents.js';
import { people } from '../../db/schema/people.js';
import { forbidden, tlpViolation, usageError } from '../../errors.js';
import { type ItemRef, scheduleItem } from '../../jobs/items.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { requireOrganisation } from '../directory/resolve.js';
import type { OrganisationSummary } from '../directory/speaker.js';
import { nextRef } from '../refs.js';
import { incidentChannelName } from './names.js';
import { STATUS_INTERVAL_MS, STATUS_REMINDER } from './severity.js';

export interface OpenIncidentInput {
  title: string;
  severity: Severity;
  tlp: TlpLevel;
  /** Codes of the organisations to bring in, besides the opener's own. */
  orgs: readonly string[];
  /** Who opened it, on which platform: the primary channel lives there. */
  caller: UserRef;
}

export interface OpenedIncident {
  id: number;
  ref: string;
  /** Handles of the contacts brought in, `@kadri (EST)`. */
  invited: string[];
  /** Named organisations with no primary `incident-response` contact. */
  withoutContact: string[];
  items: ItemRef[];
}

export const INCIDENT_CAPABILITY = 'incident-response';

/**
 * Records a new incident: the row, its parties, its members (the opener and each named
 * organisation's primary incident-response contact), the first timeline entry, the audit row and
 * the first status reminder, in one transaction. The channels are made by the provisioner.
 */
export async function openIncident({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: OpenIncidentInput;
}): Promise<OpenedIncident> {
  const title = input.title.trim().replace(/\s+/g, ' ');
  if (title.length === 0 || title.length > 150) {
    throw usageError('the title must be 1 to 150 characters');
  }
  const opener = ctx.speaker.person;
  if (!opener) {
    throw forbidden('incidents are opened by people in the directory; ask an admin to add you');
  }
  const platform: ChatPlatform = platformOf(input.caller);
  const codes = [...new Set(input.orgs.map((c) => c.toUpperCase()))];

  return ctx.db.transaction(async (tx) => {
    const named: OrganisationSummary[] = [];
    for (const code of codes) named.push(await requireOrganisation(tx, code));
    const parties = new Map<number, string>();
    if (opener.org) parties.set(opener.org.id, opener.org.code);
    for (const org of named) parties.set(org.id, org.code);
    if (input.tlp === 'amber+strict' && parties.size > 1) {
      throw tlpViolation(
        `${tlpLabel(input.tlp)} never goes to a channel shared by several organisations (${[...parties.values()].join(', ')}); open it at amber, or one incident per organisation`,
      );
    }

    const primaries =
      named.length === 0
        ? []
        : await tx
            .select({
              orgId: contacts.orgId,
              personId: contacts.personId,
              handle: people.handle,
            })
            .from(contacts)
            .innerJoin(people, eq(people.id, contacts.personId))
            .where(
              and(
                inArray(
                  contacts.orgId,
                  named.map((o) => o.id),
                ),
                eq(contacts.capability, INCIDENT_CAPABILITY),
                eq(contacts.rank, 0),
              ),
            );
    const withoutContact = named
      .filter((org) => !primaries.some((p) => p.orgId === org.id))
      .map((org) => org.code);

    const year = ctx.now.getUTCFullYear();
    const ref = await nextRef(tx, 'INC', year);
    const [row] = await tx
      .insert(incidents)
      .values({
        ref,
        title,
        channelName: incidentChannelName(ref, title),
        severity: input.severity,
        tlp: input.tlp,
        platform,
        openerId: opener.id,
        leadId: opener.id,
        createdAt: ctx.now,
      })
      .returning({ id: incidents.id });
    if (!row) throw new Error('insert into incidents returned nothing');

    await tx
      .insert(incidentParties)
      .values([...parties.keys()].map((orgId) => ({ incidentId: row.id, orgId })));
    const memberIds = [opener.id, ...primaries.map((p) => p.personId)];
    await tx
      .insert(incidentMembers)
      .values([...new Set(memberIds)].map((personId) => ({ incidentId: row.id, personId })));
    await tx.insert(incidentTimeline).values({
      incidentId: row.id,
      at: ctx.now,
      actorId: opener.id,
      kind: 'opened',
      text: `"${title}" at severity ${input.severity}, ${tlpLabel(input.tlp)}`,
    });
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'incident.open',
      subject: `incident:${ref}`,
      detail: {
        title,
        severity: input.severity,
        tlp: input.tlp,
        parties: [...parties.values()],
        members: memberIds,
      },
    });

    const items: ItemRef[] = [];
    const interval = STATUS_INTERVAL_MS[input.severity];
    if (interval !== null) {
      items.push(
        await scheduleItem(tx, {
          kind: STATUS_REMINDER,
          subject: ref,
          dueAt: new Date(ctx.now.getTime() + interval),
          data: { incidentId: row.id },
        }),
      );
    }
    const orgOf = new Map(named.map((o) => [o.id, o.code]));
    return {
      id: row.id,
      ref,
      invited: primaries.map((p) => `@${p.handle} (${orgOf.get(p.orgId)})`),
      withoutContact,
      items,
    };
  });
}
