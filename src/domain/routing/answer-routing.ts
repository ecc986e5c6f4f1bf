import { eq } from 'drizzle-orm';
import type { UserRef } from '../../chat/refs.js';
import type { Transaction } from '../../db/client.js';
import { alerts, assistRequests, routingCards, routings } from '../../db/schema/assistance.js';
import { deliveries } from '../../db/schema/deliveries.js';
import { conflict, forbidden, notFound } from '../../errors.js';
import { writeDelivery } from '../../jobs/deliveries.js';
import { cancelItems } from '../../jobs/items.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { cardFor, trackingCard } from './cards.js';
import { editCards, editMessages, escalationKind, escalationSubject } from './route.js';
import { type AlertView, loadAlertView, loadRequestView, type RequestView } from './subject.js';

export type Answer = 'accept' | 'decline' | 'acknowledge';

const PAST: Record<Answer, 'accepted' | 'declined' | 'acknowledged'> = {
  accept: 'accepted',
  decline: 'declined',
  acknowledge: 'acknowledged',
};

/** Locks a routing and its subject, and loads the view its cards are drawn from. */
export async function lockRouting(
  tx: Transaction,
  routingId: number,
): Promise<RequestView | AlertView | null> {
  const [routing] = await tx.select().from(routings).where(eq(routings.id, routingId));
  if (!routing) return null;
  if (routing.requestId !== null) {
    const [request] = await tx
      .select()
      .from(assistRequests)
      .where(eq(assistRequests.id, routing.requestId))
      .for('update');
    return request ? loadRequestView(tx, request) : null;
  }
  const [alert] = await tx
    .select()
    .from(alerts)
    .where(eq(alerts.id, routing.alertId as number))
    .for('update');
  return alert ? loadAlertView(tx, alert) : null;
}

/**
 * A button on a request or alert card: the organisation accepts or declines the request, or
 * acknowledges the warning. Only its own members (or an admin) may answer for it. Pending
 * escalations are cancelled, every card of the organisation is edited in place, and the
 * requester's card and thread show the answer.
 */
export async function answerRouting({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: { routingId: number; answer: Answer; pressedOn: string };
}): Promise<{ reply: string; deliveries: number[] }> {
  return ctx.db.transaction(async (tx) => {
    const view = await lockRouting(tx, input.routingId);
    if (!view) throw notFound('that request or warning no longer exists');
    const routing = view.routings.find((r) => r.id === input.routingId);
    if (!routing) throw notFound('that request or warning no longer exists');
    const ref = view.kind === 'request' ? view.request.ref : view.alert.ref;
    const person = ctx.speaker.person;
    if (!ctx.speaker.isAdmin && person?.org?.id !== routing.orgId) {
      throw forbidden(`only ${routing.orgCode}'s people may answer ${ref} for ${routing.orgCode}`);
    }
    if (view.kind === 'request' && view.request.status === 'closed') {
      throw conflict(`${ref} is closed (${view.request.outcome ?? 'resolved'})`);
    }
    const status = PAST[input.answer];
    if (routing.status !== 'waiting') {
      const who = routing.answeredByName ? ` by ${routing.answeredByName}` : '';
      if (routing.status === status)
        return { reply: `${ref}: already ${status}${who}`, deliveries: [] };
      throw conflict(`${ref}: ${routing.orgCode} already ${routing.status}${who}`);
    }
    const [pressed] = await tx
      .select({ key: deliveries.key })
      .from(deliveries)
      .innerJoin(routingCards, eq(routingCards.deliveryKey, deliveries.key))
      .where(eq(deliveries.messageRef, input.pressedOn));
    await tx
      .update(routings)
      .set({
        status,
        answeredBy: person?.id ?? null,
        answeredAt: ctx.now,
        ...(input.answer === 'accept' && !routing.engagedKey && pressed
          ? { engagedKey: pressed.key }
          : {}),
      })
      .where(eq(routings.id, routing.id));
    await cancelItems(tx, escalationKind(view.kind), escalationSubject(ref, routing.orgCode));
    const after = {
      ...routing,
      status,
      answeredBy: person?.id ?? null,
      answeredByName: person?.name ?? 'an admin',
    };
    const updated = {
      ...view,
      routings: view.routings.map((r) => (r.id === routing.id ? after : r)),
    } as RequestView | AlertView;
    const ids = await editCards(tx, [after], (r) => cardFor(updated, r));
    if (updated.kind === 'request') {
      ids.push(
        ...(await editMessages(tx, [
          {
            anchor: updated.request.trackingKey,
            target: updated.request.requesterUser,
            message: trackingCard(updated),
          },
        ])),
      );
      const note = await writeDelivery(tx, {
        key: `${ref}/${routing.orgCode}/${status}`,
        mode: 'reply',
        target: updated.request.requesterUser as UserRef,
        anchor: updated.request.trackingKey,
        message: {
          tlp: updated.request.tlp,
          title: `${input.answer === 'decline' ? '✗' : '✓'} ${routing.orgCode} ${status} ${ref}${person ? ` (${person.name})` : ''}`,
          ...(input.answer === 'accept'
            ? { body: 'Their replies arrive in this thread; yours here reach them.' }
            : {}),
        },
      });
      if (note !== null) ids.push(note);
    }
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: view.kind === 'request' ? `assist.${input.answer}` : 'alert.acknowledge',
      subject: `${view.kind}:${ref}`,
      detail: { org: routing.orgCode },
    });
    return { reply: `✓ ${ref}: ${routing.orgCode} ${status}`, deliveries: ids };
  });
}
