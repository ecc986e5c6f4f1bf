import { and, eq, inArray, sql } from 'drizzle-orm';
import type { ChatMessage, TlpLevel } from '../../chat/message.js';
import { type ChannelRef, type ChatPlatform, platformOf, type UserRef } from '../../chat/refs.js';
import type { Transaction } from '../../db/client.js';
import { routingCards } from '../../db/schema/assistance.js';
import { deliveries } from '../../db/schema/deliveries.js';
import { jsonRowsStatement } from '../../db/statement.js';
import { usageError } from '../../errors.js';
import { writeDelivery } from '../../jobs/deliveries.js';
import { type ItemRef, scheduleItems } from '../../jobs/items.js';
import type { Audience } from '../../tlp/rules.js';
import type { OrganisationSummary } from '../directory/speaker.js';
import { contactsById, inboxesOf } from './contacts.js';
import { chooseDestination } from './destination.js';
import { contactLadders } from './ladder.js';
import type { Routing, RoutingView } from './subject.js';

/** What is being routed: a request for assistance or an early warning. */
export interface RouteSubject {
  kind: 'request' | 'alert';
  id: number;
  ref: string;
  tlp: TlpLevel;
  capability: string;
  /** Time to answer before the next contact is asked. */
  deadlineMs: number;
}

/** What happened for each addressed organisation. */
export interface RouteResult {
  /** `ACME (inbox)`, `DEU (Anna Berg, direct message)`. */
  routed: string[];
  /** Organisations holding no contact for the capability. */
  withoutContact: string[];
  /** Organisations the TLP rules (or a missing account) kept out, with the reason. */
  refused: string[];
  /** Things the sender should know, e.g. an inbox that is not private. */
  notes: string[];
  /** Delivery ids to queue once the transaction commits. */
  deliveries: number[];
  /** Escalations to queue once the transaction commits. */
  items: ItemRef[];
  /** Directory ids of the people the cards were addressed to (TLP:RED names them). */
  named: number[];
}

/** The scheduled-item kind that escalates a subject's routing. */
export const escalationKind = (kind: RouteSubject['kind']) =>
  kind === 'request' ? 'assist.escalate' : 'alert.escalate';
/** One escalation item per routing: `AR-2026-7/ACME`. */
export const escalationSubject = (ref: string, orgCode: string) => `${ref}/${orgCode}`;

export const inboxCardKey = (ref: string, orgCode: string) => `${ref}/${orgCode}/inbox`;
export const directCardKey = (ref: string, orgCode: string, personId: number) =>
  `${ref}/${orgCode}/direct/${personId}`;

/**
 * A fan-out that reached nobody is refused as a whole, with every reason: thrown inside the
 * transaction, it rolls back and nothing is kept.
 */
export function refuseWhenNobody(routed: RouteResult, capability: string, what: string): void {
  if (routed.routed.length > 0) return;
  const why = [
    routed.withoutContact.length
      ? `no ${capability} contact at ${routed.withoutContact.join(', ')}`
      : '',
    ...routed.refused,
  ].filter(Boolean);
  throw usageError(`nobody to send ${what} to: ${why.join('; ') || 'no organisation'}`);
}

/**
 * Routes a subject to each organisation, inside the caller's transaction: the primary contact
 * for the capability, through the organisation's inbox where the TLP level allows, otherwise
 * by direct message. Writes the routing, its card as a pending delivery, and the escalation.
 */
export async function routeToOrganisations(
  tx: Transaction,
  input: {
    subject: RouteSubject;
    orgs: readonly OrganisationSummary[];
    /** Parties besides the addressed organisations (the sender's), and the sender's id. */
    senderOrgCode: string | null;
    senderId: number;
    order: readonly ChatPlatform[];
    now: Date;
    render: (routing: RoutingView) => ChatMessage;
  },
): Promise<RouteResult> {
  const { subject, now } = input;
  const result: RouteResult = {
    routed: [],
    withoutContact: [],
    refused: [],
    notes: [],
    deliveries: [],
    items: [],
    named: [],
  };
  const ladders = await contactLadders(
    tx,
    input.orgs.map((o) => o.id),
    subject.capability,
  );
  const reachable = input.orgs.filter((o) => (ladders.get(o.id)?.holders ?? 0) > 0);
  for (const org of input.orgs) if (!reachable.includes(org)) result.withoutContact.push(org.code);
  const parties = [
    ...new Set([
      ...(input.senderOrgCode ? [input.senderOrgCode] : []),
      ...reachable.map((o) => o.code),
    ]),
  ];
  const primaryOf = new Map(reachable.map((o) => [o.id, ladders.get(o.id)?.people[0] as number]));
  const orgOf = new Map(reachable.map((o) => [primaryOf.get(o.id) as number, o.code]));
  const primaries = await contactsById(tx, [...primaryOf.values()], orgOf, input.order);
  const inboxes = await inboxesOf(
    tx,
    reachable.map((o) => o.id),
    input.order,
  );
  // Decide every destination first, then write each kind of row in one statement: a fan-out to
  // hundreds of organisations is a handful of statements, not thousands.
  const chosen: { org: OrganisationSummary; primaryId: number; card: Card }[] = [];
  for (const org of reachable) {
    const primaryId = primaryOf.get(org.id) as number;
    const primary = primaries.get(primaryId);
    if (!primary) continue;
    const audience: Audience = { parties, named: [input.senderId, primaryId] };
    const destination = chooseDestination(
      subject.tlp,
      inboxes.get(org.id) ?? null,
      primary,
      audience,
    );
    if (destination.kind === 'refused') {
      result.refused.push(destination.reason);
      continue;
    }
    chosen.push({
      org,
      primaryId,
      card:
        destination.kind === 'inbox'
          ? {
              key: inboxCardKey(subject.ref, org.code),
              mode: 'channel',
              target: destination.channel,
              personId: null,
            }
          : {
              key: directCardKey(subject.ref, org.code, primaryId),
              mode: 'direct',
              target: destination.user,
              personId: primaryId,
            },
    });
    result.named.push(primaryId);
    result.routed.push(
      destination.kind === 'inbox'
        ? `${org.code} (inbox)`
        : `${org.code} (${primary.name}, direct message)`,
    );
    if (destination.kind === 'direct' && destination.note) result.notes.push(destination.note);
  }
  if (chosen.length === 0) return result;
  interleaveByPlatform(chosen);
  const inserted = await insertRoutings(
    tx,
    chosen.map(({ org, primaryId }) => ({
      request_id: subject.kind === 'request' ? subject.id : null,
      alert_id: subject.kind === 'alert' ? subject.id : null,
      org_id: org.id,
      asked: [primaryId],
    })),
  );
  const routingOf = new Map(
    inserted.map((r): [number, Routing] => [
      r.org_id,
      {
        id: r.id,
        requestId: r.request_id,
        alertId: r.alert_id,
        orgId: r.org_id,
        status: 'waiting',
        asked: r.asked,
        answeredBy: null,
        answeredAt: null,
        engagedKey: null,
      },
    ]),
  );
  await insertCards(
    tx,
    chosen.map(({ org, card }) => ({
      routing_id: (routingOf.get(org.id) as Routing).id,
      delivery_key: card.key,
      target: card.target,
      person_id: card.personId,
    })),
  );
  const posted = await insertDeliveries(
    tx,
    chosen.map(({ org, card }) => ({
      key: card.key,
      mode: card.mode,
      target: card.target,
      message: input.render({
        ...(routingOf.get(org.id) as Routing),
        orgCode: org.code,
        orgName: org.name,
        answeredByName: null,
      }),
    })),
  );
  // bigserial ids arrive as text.
  result.deliveries.push(...posted.map((p) => Number(p.id)));
  result.items.push(
    ...(await scheduleItems(
      tx,
      chosen.map(({ org }) => ({
        kind: escalationKind(subject.kind),
        subject: escalationSubject(subject.ref, org.code),
        dueAt: new Date(now.getTime() + subject.deadlineMs),
        data: { routingId: (routingOf.get(org.id) as Routing).id, deadlineMs: subject.deadlineMs },
      })),
    )),
  );
  return result;
}

// A fan-out's rows, each kind in one statement over a JSON array (see jsonRowsStatement).
const insertRoutings = jsonRowsStatement<{
  id: number;
  request_id: number | null;
  alert_id: number | null;
  org_id: number;
  asked: number[];
}>(
  (rows) => sql`insert into routings (request_id, alert_id, org_id, asked)
    select request_id, alert_id, org_id, asked
    from jsonb_to_recordset(${rows}) as x(request_id int, alert_id int, org_id int, asked int[])
    returning id, request_id, alert_id, org_id, asked`,
);
const insertCards = jsonRowsStatement(
  (rows) => sql`insert into routing_cards (routing_id, delivery_key, target, person_id)
    select routing_id, delivery_key, target, person_id
    from jsonb_to_recordset(${rows}) as x(routing_id int, delivery_key text, target text, person_id int)`,
);
const insertDeliveries = jsonRowsStatement<{ id: string }>(
  (rows) => sql`insert into deliveries (key, mode, target, message)
    select key, mode, target, message
    from jsonb_to_recordset(${rows}) as x(key text, mode text, target text, message jsonb)
    on conflict (key) do nothing
    returning id`,
);

/**
 * Orders cards so platforms take turns: the queue hands jobs out in id order, and a Discord card
 * waiting for its slot under the global limit should not wait behind every Slack card too.
 */
function interleaveByPlatform(chosen: { card: Card }[]): void {
  const byPlatform = new Map<string, { card: Card }[]>();
  for (const c of chosen) {
    const platform = platformOf(c.card.target);
    const queue = byPlatform.get(platform) ?? [];
    queue.push(c);
    byPlatform.set(platform, queue);
  }
  const queues = [...byPlatform.values()];
  chosen.length = 0;
  for (let i = 0; queues.some((q) => i < q.length); i++) {
    for (const q of queues) {
      const next = q[i];
      if (next) chosen.push(next);
    }
  }
}

interface Card {
  key: string;
  mode: 'channel' | 'direct';
  target: ChannelRef | UserRef;
  personId: number | null;
}

/**
 * Edits every card of these routings to `render`'s current view, as `edit` deliveries written in
 * the caller's transaction (which must hold the subject's lock, so edits of a card are numbered
 * in order). Returns the delivery ids to queue after commit.
 */
export async function editCards(
  tx: Transaction,
  views: readonly RoutingView[],
  render: (routing: RoutingView) => ChatMessage,
): Promise<number[]> {
  if (views.length === 0) return [];
  const cards = await tx
    .select()
    .from(routingCards)
    .where(
      inArray(
        routingCards.routingId,
        views.map((v) => v.id),
      ),
    );
  return editMessages(
    tx,
    cards.map((card) => {
      const view = views.find((v) => v.id === card.routingId) as RoutingView;
      return { anchor: card.deliveryKey, target: card.target, message: render(view) };
    }),
  );
}

/** Edit deliveries for posted (or still pending) messages, numbered per message. */
export async function editMessages(
  tx: Transaction,
  edits: readonly { anchor: string; target: string; message: ChatMessage }[],
): Promise<number[]> {
  if (edits.length === 0) return [];
  const counts = await tx
    .select({ anchor: deliveries.anchor, n: sql<number>`count(*)::int` })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.mode, 'edit'),
        inArray(
          deliveries.anchor,
          edits.map((e) => e.anchor),
        ),
      ),
    )
    .groupBy(deliveries.anchor);
  const ids: number[] = [];
  for (const edit of edits) {
    const n = (counts.find((c) => c.anchor === edit.anchor)?.n ?? 0) + 1;
    const id = await writeDelivery(tx, {
      key: `${edit.anchor}/edit/${n}`,
      mode: 'edit',
      target: edit.target as ChannelRef,
      anchor: edit.anchor,
      message: edit.message,
    });
    if (id !== null) ids.push(id);
  }
  return ids;
}
