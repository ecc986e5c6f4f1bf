import { eq } from 'drizzle-orm';
import type { ChatMessage } from '../../chat/message.js';
import type { InboundMessage } from '../../chat/port.js';
import type { ChannelRef } from '../../chat/refs.js';
import type { Database } from '../../db/client.js';
import { incidents } from '../../db/schema/incidents.js';
import { type DeliveryRow, writeDelivery } from '../../jobs/deliveries.js';
import { mayDeliver, needsPrivateChannel } from '../../tlp/rules.js';
import { findPersonByRefIn } from '../directory/speaker.js';
import { claimDelivery } from '../inbound/claim-delivery.js';
import { findIncidentByChannel, loadIncidentView } from './load-incident.js';

export interface RelayDecision {
  /** False when the delivery key was seen before: nothing was written. */
  fresh: boolean;
  rows: DeliveryRow[];
  /** Destinations the TLP rules refused, with the reason (logged, never posted). */
  refused: string[];
}

/**
 * A message in an incident channel goes to its twin channels, labelled with author,
 * organisation and TLP, as outbox rows written with the delivery key's claim: a redelivered
 * event relays nothing, and a crash after the commit still relays once. Thread replies follow
 * their thread; edits edit the copy.
 */
export async function relayMessage({
  db,
  message,
  claimed,
}: {
  db: Database;
  message: InboundMessage;
  /** Mark rows as claimed by the caller, who posts them at once. */
  claimed?: Date;
}): Promise<RelayDecision> {
  return db.transaction(async (tx) => {
    if (!(await claimDelivery(db, message.deliveryKey, tx)))
      return { fresh: false, rows: [], refused: [] };
    const found = await findIncidentByChannel(tx, message.channel);
    if (!found) return { fresh: true, rows: [], refused: [] };
    const [incident] = await tx.select().from(incidents).where(eq(incidents.id, found.id));
    if (!incident || incident.status === 'closed') return { fresh: true, rows: [], refused: [] };
    const view = await loadIncidentView(tx, incident);
    // On the transaction (a query through `db` here would be refused: transaction-guard.ts), and
    // only for a message that is relayed.
    const author = await findPersonByRefIn(tx, message.user);
    const label = author
      ? `${author.name}${author.org ? ` (${author.org.code})` : ''}`
      : `${message.userName ?? 'someone'} (not in the directory)`;
    const copy: ChatMessage = {
      tlp: incident.tlp,
      title: `${label}${message.edited ? ' (edited)' : ''}`,
      body: message.text,
    };
    const audience = { parties: view.parties.map((p) => p.code), named: view.memberIds };
    const rows: DeliveryRow[] = [];
    const refused: string[] = [];
    for (const twin of view.channels) {
      if (!twin.channel || twin.channel === message.channel || twin.archived) continue;
      const verdict = mayDeliver(
        incident.tlp,
        {
          kind: 'channel',
          registered: true,
          private: needsPrivateChannel(incident.tlp),
          orgs: audience.parties,
          members: view.memberIds,
        },
        audience,
      );
      if (!verdict.ok) {
        refused.push(`${twin.channel}: ${verdict.reason}`);
        continue;
      }
      const target = twin.channel as ChannelRef;
      const input = {
        key: `relay/${message.deliveryKey}/${target}`,
        mode: message.edited ? ('update' as const) : ('channel' as const),
        target,
        message: copy,
        source: message.message,
        sourceChannel: message.channel,
        ...(message.thread && !message.edited ? { threadOf: message.thread } : {}),
      };
      const id = await writeDelivery(tx, input, claimed ? { claimedAt: claimed } : {});
      if (id !== null) rows.push({ id, ...input });
    }
    return { fresh: true, rows, refused };
  });
}
