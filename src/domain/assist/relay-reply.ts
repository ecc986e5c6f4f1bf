import { and, eq, isNull } from 'drizzle-orm';
import type { InboundMessage } from '../../chat/port.js';
import type { UserRef } from '../../chat/refs.js';
import type { Database } from '../../db/client.js';
import { assistRequests, routingCards, routings } from '../../db/schema/assistance.js';
import { deliveries } from '../../db/schema/deliveries.js';
import { type DeliveryInput, type DeliveryRow, writeDelivery } from '../../jobs/deliveries.js';
import { findPersonByRef } from '../directory/speaker.js';
import { claimDelivery } from '../inbound/claim-delivery.js';

/** The card or requester's card a thread hangs off, if it is one of a request's. */
async function threadOwner(db: Database, thread: string) {
  const [posted] = await db
    .select({ key: deliveries.key })
    .from(deliveries)
    .where(
      and(eq(deliveries.messageRef, thread), isNull(deliveries.anchor), isNull(deliveries.source)),
    );
  if (!posted) return null;
  const [card] = await db
    .select({ routingId: routingCards.routingId, requestId: routings.requestId })
    .from(routingCards)
    .innerJoin(routings, eq(routings.id, routingCards.routingId))
    .where(eq(routingCards.deliveryKey, posted.key));
  if (card?.requestId)
    return { kind: 'card' as const, key: posted.key, ...card, requestId: card.requestId };
  const [request] = await db
    .select({ id: assistRequests.id })
    .from(assistRequests)
    .where(eq(assistRequests.trackingKey, posted.key));
  if (request) return { kind: 'tracking' as const, key: posted.key, requestId: request.id };
  return null;
}

/**
 * A reply in a request's threads. In a card's thread (a liaison answering), it goes to the
 * requester's thread, labelled with author and organisation, and the card becomes the thread the
 * requester's replies go back to. In the requester's thread, it goes to every organisation that
 * has engaged (accepted, or answered in a thread). Null when the thread is none of a request's:
 * the message is someone else's business. Edits are not relayed.
 */
export async function relayRequestReply({
  db,
  message,
  claimed,
}: {
  db: Database;
  message: InboundMessage;
  claimed?: Date;
}): Promise<{ rows: DeliveryRow[] } | null> {
  if (!message.thread || message.edited) return null;
  const owner = await threadOwner(db, message.thread);
  if (!owner) return null;
  const author = await findPersonByRef(db, message.user);
  return db.transaction(async (tx) => {
    if (!(await claimDelivery(db, message.deliveryKey, tx))) return { rows: [] };
    const [request] = await tx
      .select()
      .from(assistRequests)
      .where(eq(assistRequests.id, owner.requestId))
      .for('update');
    if (request?.status !== 'open') return { rows: [] };
    const label = author
      ? `${author.name}${author.org ? ` (${author.org.code})` : ''}`
      : `${message.userName ?? 'someone'} (not in the directory)`;
    const copy = { tlp: request.tlp, title: `💬 ${label} · ${request.ref}`, body: message.text };
    const inputs: DeliveryInput[] = [];
    if (owner.kind === 'card') {
      const [routing] = await tx.select().from(routings).where(eq(routings.id, owner.routingId));
      if (routing && !routing.engagedKey) {
        await tx.update(routings).set({ engagedKey: owner.key }).where(eq(routings.id, routing.id));
      }
      inputs.push({
        key: `relay/${message.deliveryKey}/requester`,
        mode: 'reply',
        target: request.requesterUser as UserRef,
        anchor: request.trackingKey,
        message: copy,
      });
    } else {
      const engaged = await tx
        .select({ key: routings.engagedKey, target: routingCards.target })
        .from(routings)
        .innerJoin(routingCards, eq(routingCards.deliveryKey, routings.engagedKey))
        .where(eq(routings.requestId, request.id));
      if (engaged.length === 0) {
        inputs.push({
          key: `relay/${message.deliveryKey}/unsent`,
          mode: 'reply',
          target: request.requesterUser as UserRef,
          anchor: request.trackingKey,
          message: {
            tlp: request.tlp,
            title: 'Not relayed: no organisation has accepted or answered yet',
            body: 'Replies here go to the organisations that engage; their answers will arrive in this thread.',
          },
        });
      }
      for (const e of engaged) {
        if (!e.key) continue;
        inputs.push({
          key: `relay/${message.deliveryKey}/${e.key}`,
          mode: 'reply',
          target: e.target as UserRef,
          anchor: e.key,
          message: copy,
        });
      }
    }
    const rows: DeliveryRow[] = [];
    for (const input of inputs) {
      const id = await writeDelivery(tx, input, claimed ? { claimedAt: claimed } : {});
      if (id !== null) rows.push({ id, ...input });
    }
    return { rows };
  });
}
