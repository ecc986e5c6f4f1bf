import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { type ChannelRef, type ChatPlatform, platformOf, type UserRef } from '../../chat/refs.js';
import { routingCards, routings } from '../../db/schema/assistance.js';
import type { ItemHandler } from '../../jobs/worker.js';
import { mayDeliver } from '../../tlp/rules.js';
import { recordAudit } from '../audit.js';
import { describeOffset } from '../forum/reminder-times.js';
import { lockRouting } from './answer-routing.js';
import { cardFor } from './cards.js';
import { contactsById, platformOrder } from './contacts.js';
import { contactLadder, stepName } from './ladder.js';
import { directCardKey, inboxCardKey } from './route.js';

const EscalationData = z.object({
  routingId: z.number().int().positive(),
  deadlineMs: z.number().int().positive(),
});

/**
 * `assist.escalate` and `alert.escalate`: the organisation has not answered in time, so the
 * card goes by direct message to the next person on its ladder (the capability's backups in
 * order, then its other contacts). The inbox card's thread and the requester hear of each step.
 * It recurs at the same deadline until someone answers, the request closes, or nobody is left.
 *
 * `running` are the platforms this deployment runs: the next person is reached on one of them
 * (the sender's first), never on one whose adapter is off.
 */
export const escalateRoutingOn =
  (running: readonly ChatPlatform[]): ItemHandler =>
  async ({ tx, item, now, deliver }) => {
    const { routingId, deadlineMs } = EscalationData.parse(item.data);
    const view = await lockRouting(tx, routingId);
    if (!view) return undefined;
    const routing = view.routings.find((r) => r.id === routingId);
    if (routing?.status !== 'waiting') return undefined;
    if (view.kind === 'request' && view.request.status !== 'open') return undefined;
    const subject =
      view.kind === 'request'
        ? {
            ref: view.request.ref,
            tlp: view.request.tlp,
            capability: view.request.capability,
            senderUser: view.request.requesterUser as UserRef,
            senderId: view.request.requesterId,
            createdAt: view.request.createdAt,
          }
        : {
            ref: view.alert.ref,
            tlp: view.alert.tlp,
            capability: 'early-warning',
            senderUser: view.alert.senderUser as UserRef,
            senderId: view.alert.senderId,
            createdAt: view.alert.createdAt,
          };
    const waited = describeOffset(deadlineMs);
    const ladder = await contactLadder(tx, routing.orgId, subject.capability);
    const order = platformOrder(platformOf(subject.senderUser), running);
    const remaining = ladder.people.filter((id) => !routing.asked.includes(id));
    const contacts = await contactsById(tx, remaining, routing.orgCode, order);
    const previousId = routing.asked.at(-1) as number;
    const previous = (await contactsById(tx, [previousId], routing.orgCode, order)).get(previousId);
    const previousName = `${previous?.name ?? 'the last contact'} (${stepName(ladder, previousId)})`;
    const next = remaining
      .map((id) => contacts.get(id))
      .find(
        (c) =>
          c?.user &&
          mayDeliver(
            subject.tlp,
            { kind: 'direct', person: { id: c.personId, org: routing.orgCode } },
            { parties: [routing.orgCode], named: [c.personId] },
          ).ok,
      );
    const tellSender = async (key: string, title: string) => {
      if (view.kind !== 'request') return;
      await deliver({
        key,
        mode: 'reply',
        target: subject.senderUser,
        anchor: view.request.trackingKey,
        message: { tlp: subject.tlp, title },
      });
    };
    const step = routing.asked.length;
    const [inboxCard] = await tx
      .select({ key: routingCards.deliveryKey, target: routingCards.target })
      .from(routingCards)
      .where(eq(routingCards.deliveryKey, inboxCardKey(subject.ref, routing.orgCode)));
    if (!next?.user) {
      await tellSender(
        `${subject.ref}/${routing.orgCode}/escalate/${step}/exhausted`,
        `⏫ ${subject.ref}: ${routing.orgCode} has not answered within ${waited}, and has nobody else to ask; the card stays open for them`,
      );
      await recordAudit(tx, {
        actor: 'concord',
        action: `${view.kind === 'request' ? 'assist' : 'alert'}.escalate`,
        subject: `${view.kind}:${subject.ref}`,
        detail: { org: routing.orgCode, to: null },
      });
      return undefined;
    }
    const nextName = `${next.name} (${stepName(ladder, next.personId)})`;
    await tx
      .update(routings)
      .set({ asked: [...routing.asked, next.personId] })
      .where(eq(routings.id, routing.id));
    const key = directCardKey(subject.ref, routing.orgCode, next.personId);
    await tx
      .insert(routingCards)
      .values({
        routingId: routing.id,
        deliveryKey: key,
        target: next.user,
        personId: next.personId,
      })
      .onConflictDoNothing();
    const asked = { ...routing, asked: [...routing.asked, next.personId] };
    await deliver({ key, mode: 'direct', target: next.user, message: cardFor(view, asked) });
    if (inboxCard) {
      await deliver({
        key: `${inboxCard.key}/escalate/${step}`,
        mode: 'reply',
        // The inbox's channel, not the next contact: the two may be on different platforms.
        target: inboxCard.target as ChannelRef,
        anchor: inboxCard.key,
        message: {
          tlp: subject.tlp,
          title: `⏫ Not answered within ${waited}: now asking ${nextName} directly`,
        },
      });
    }
    await tellSender(
      `${subject.ref}/${routing.orgCode}/escalate/${step}`,
      `⏫ ${subject.ref}: ${routing.orgCode}'s ${previousName} did not answer within ${waited}; now asking ${nextName}`,
    );
    await recordAudit(tx, {
      actor: 'concord',
      action: `${view.kind === 'request' ? 'assist' : 'alert'}.escalate`,
      subject: `${view.kind}:${subject.ref}`,
      detail: { org: routing.orgCode, to: next.personId, step },
    });
    return { again: new Date(now.getTime() + deadlineMs) };
  };

/** Escalation with both chat platforms running (tests; the process passes its own). */
export const escalateRouting = escalateRoutingOn(['slack', 'discord']);
