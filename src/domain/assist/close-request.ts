import { eq, inArray } from 'drizzle-orm';
import type { ChannelRef, UserRef } from '../../chat/refs.js';
import { assistRequests, type RequestOutcome, routingCards } from '../../db/schema/assistance.js';
import { conflict, forbidden, notFound } from '../../errors.js';
import { writeDelivery } from '../../jobs/deliveries.js';
import { cancelItems } from '../../jobs/items.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { requestCard, trackingCard } from '../routing/cards.js';
import { editCards, editMessages, escalationKind } from '../routing/route.js';
import { loadRequestView } from '../routing/subject.js';

/**
 * `/assist close`: the requester (or someone of their organisation, or an admin) closes the
 * request. Escalations stop, every card is edited to show the outcome and loses its buttons, and
 * each organisation that engaged hears it in its thread.
 */
export async function closeRequest({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: { ref: string; outcome: RequestOutcome };
}): Promise<{ ref: string; deliveries: number[] }> {
  const ref = input.ref.toUpperCase();
  return ctx.db.transaction(async (tx) => {
    const [request] = await tx
      .select()
      .from(assistRequests)
      .where(eq(assistRequests.ref, ref))
      .for('update');
    if (!request) throw notFound(`no request ${ref}: /assist list shows yours`);
    const view = await loadRequestView(tx, request);
    const person = ctx.speaker.person;
    const mine =
      person?.id === request.requesterId ||
      (person?.org !== null && person?.org?.code === view.requester.orgCode);
    if (!ctx.speaker.isAdmin && !mine) {
      throw forbidden(`only ${view.requester.name}'s organisation may close ${ref}`);
    }
    if (request.status === 'closed')
      throw conflict(`${ref} is already closed (${request.outcome})`);
    const [closed] = await tx
      .update(assistRequests)
      .set({ status: 'closed', outcome: input.outcome, closedAt: ctx.now })
      .where(eq(assistRequests.id, request.id))
      .returning();
    if (!closed) throw new Error('close returned nothing');
    await cancelItems(tx, escalationKind('request'), ref);
    const after = { ...view, request: closed };
    const ids = await editCards(tx, after.routings, (r) => requestCard(after, r));
    ids.push(
      ...(await editMessages(tx, [
        { anchor: closed.trackingKey, target: closed.requesterUser, message: trackingCard(after) },
      ])),
    );
    // The note goes under each engaged card, so it goes where that card went: the card's own
    // target picks the platform that posts it, which need not be the requester's.
    const engagedKeys = after.routings.flatMap((r) => (r.engagedKey ? [r.engagedKey] : []));
    const engagedCards =
      engagedKeys.length > 0
        ? await tx
            .select({ key: routingCards.deliveryKey, target: routingCards.target })
            .from(routingCards)
            .where(inArray(routingCards.deliveryKey, engagedKeys))
        : [];
    for (const routing of after.routings) {
      const card = engagedCards.find((c) => c.key === routing.engagedKey);
      if (!card) continue;
      const id = await writeDelivery(tx, {
        key: `${ref}/${routing.orgCode}/closed`,
        mode: 'reply',
        target: card.target as ChannelRef | UserRef,
        anchor: card.key,
        message: {
          tlp: closed.tlp,
          title: `${ref} closed by ${person?.name ?? 'an admin'}: ${input.outcome}`,
          body: 'Thank you. Replies here are no longer relayed.',
        },
      });
      if (id !== null) ids.push(id);
    }
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'assist.close',
      subject: `request:${ref}`,
      detail: { outcome: input.outcome },
    });
    return { ref, deliveries: ids };
  });
}
