import { type TlpLevel, tlpLabel } from '../../chat/message.js';
import type { ChannelRef, ChatPlatform, UserRef } from '../../chat/refs.js';
import { platformOf } from '../../chat/refs.js';
import { assistRequests, type Urgency } from '../../db/schema/assistance.js';
import { forbidden, tlpViolation, usageError } from '../../errors.js';
import { writeDelivery } from '../../jobs/deliveries.js';
import { mayChangeLevel, tlpRank } from '../../tlp/rules.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { mayRead } from '../incidents/list-incidents.js';
import { resolveIncident } from '../incidents/load-incident.js';
import { nextRef } from '../refs.js';
import { requestCard, trackingCard } from '../routing/cards.js';
import { platformOrder } from '../routing/contacts.js';
import { URGENCY_DEADLINE_MS } from '../routing/deadlines.js';
import { type RouteResult, refuseWhenNobody, routeToOrganisations } from '../routing/route.js';
import { loadRequestView } from '../routing/subject.js';
import { type Addressees, addressedOrganisations, describeAddressees } from '../routing/targets.js';

export interface RequestAssistanceInput {
  need: string;
  capability: string;
  to: Addressees;
  urgency: Urgency;
  /** Unset: the incident's level when there is one, else amber. */
  tlp?: TlpLevel;
  incident?: string;
  /** The account the request comes from; answers come back there. */
  requester: UserRef;
  /** Platforms running now: cards go only where Concord can post. */
  running: readonly ChatPlatform[];
}

export interface RequestAssistanceResult extends RouteResult {
  ref: string;
  tlp: TlpLevel;
}

export const trackingKeyOf = (ref: string) => `${ref}/requester`;

/**
 * `/assist request`: creates `AR-<year>-<seq>` and routes it to each addressed organisation's
 * primary contact for the capability (see routing/route.ts). The requester gets their own card
 * by direct message: answers arrive in its thread. Nothing is written when nobody can be reached.
 */
export async function requestAssistance({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: RequestAssistanceInput;
}): Promise<RequestAssistanceResult> {
  const person = ctx.speaker.person;
  if (!person?.org) {
    throw forbidden('a request speaks for an organisation: you need to be a member of one');
  }
  const org = person.org;
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(input.capability)) {
    throw usageError(`capability:${input.capability} is not a tag like forensics or legal`);
  }
  return ctx.db.transaction(async (tx) => {
    let incidentId: number | null = null;
    let tlp = input.tlp ?? 'amber';
    if (input.incident) {
      const incident = await resolveIncident(tx, {
        ref: input.incident,
        channel: '' as ChannelRef,
      });
      if (!(await mayRead(tx, ctx.speaker, incident))) {
        throw forbidden(`${incident.ref} is for its parties only`);
      }
      incidentId = incident.id;
      if (!input.tlp) tlp = incident.tlp;
      else if (tlpRank(input.tlp) < tlpRank(incident.tlp)) {
        const verdict = mayChangeLevel(incident.tlp, input.tlp, {
          isOriginator: incident.openerId === person.id,
          isParty: true,
        });
        if (!verdict.ok) {
          throw tlpViolation(
            `${incident.ref} is ${tlpLabel(incident.tlp)}: ${verdict.reason} for a request about it`,
          );
        }
      }
    }
    if ((tlp === 'amber+strict' || tlp === 'red') && input.to.kind !== 'named') {
      throw tlpViolation(
        `${tlpLabel(tlp)} requests go only to organisations named with to:<codes>, not to:${input.to.kind}`,
      );
    }
    const orgs = await addressedOrganisations(tx, input.to, org.id);
    if (orgs.length === 0)
      throw usageError(`no organisation is addressed by to:${describeAddressees(input.to)}`);
    const ref = await nextRef(tx, 'AR', ctx.now.getUTCFullYear());
    const trackingKey = trackingKeyOf(ref);
    const [request] = await tx
      .insert(assistRequests)
      .values({
        ref,
        need: input.need,
        capability: input.capability,
        urgency: input.urgency,
        tlp,
        audience: describeAddressees(input.to),
        requesterId: person.id,
        requesterUser: input.requester,
        trackingKey,
        incidentId,
        createdAt: ctx.now,
      })
      .returning();
    if (!request) throw new Error('request insert returned nothing');
    const view = await loadRequestView(tx, request);
    const routed = await routeToOrganisations(tx, {
      subject: {
        kind: 'request',
        id: request.id,
        ref,
        tlp,
        capability: input.capability,
        deadlineMs: URGENCY_DEADLINE_MS[input.urgency],
      },
      orgs,
      senderOrgCode: org.code,
      senderId: person.id,
      order: platformOrder(platformOf(input.requester), input.running),
      now: ctx.now,
      render: (routing) => requestCard(view, routing),
    });
    refuseWhenNobody(routed, input.capability, 'the request');
    const tracking = await writeDelivery(tx, {
      key: trackingKey,
      mode: 'direct',
      target: input.requester,
      message: trackingCard(await loadRequestView(tx, request)),
    });
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'assist.request',
      subject: `request:${ref}`,
      detail: {
        capability: input.capability,
        urgency: input.urgency,
        tlp,
        to: describeAddressees(input.to),
        routed: routed.routed,
        withoutContact: routed.withoutContact,
        refused: routed.refused,
      },
    });
    return {
      ...routed,
      ref,
      tlp,
      deliveries: [...(tracking === null ? [] : [tracking]), ...routed.deliveries],
    };
  });
}
