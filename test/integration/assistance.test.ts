import { and, eq, inArray } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderPlainText } from '../../src/chat/message.js';
import type { CommandReply } from '../../src/chat/port.js';
import {
  type ChannelRef,
  channelRef,
  type MessageRef,
  type UserRef,
  userRef,
} from '../../src/chat/refs.js';
import {
  auditLog,
  deliveries,
  orgInboxes,
  routings,
  scheduledItems,
} from '../../src/db/schema/index.js';
import { escalateRouting } from '../../src/domain/routing/escalate.js';
import { writeDelivery } from '../../src/jobs/deliveries.js';
import { postClaimed, sendDelivery } from '../../src/jobs/send-delivery.js';
import { makeTestCore, type TestCore, tableCounts } from '../support/core.js';
import { makeContact, makeOrganisation, makePerson } from '../support/factories.js';
import { MemoryChat } from '../support/memory-chat.js';

// Requests for assistance and early warnings through the core, on a real database, with
// in-memory Slack and Discord: routing, TLP, answers, threads both ways, escalation and close.

const KADRI = userRef('slack', 'UKADRI'); // EST delegate, the requester
const BOB = userRef('discord', 'DBOB'); // ACME forensics primary
const CAROL = userRef('slack', 'UCAROL'); // ACME forensics backup
const ANNA = userRef('slack', 'UANNA'); // DEU forensics primary
const DAN = userRef('slack', 'UDAN'); // DEU other contact (legal)
const EVE = userRef('slack', 'UEVE'); // DEU early-warning
const GENERAL = channelRef('slack', 'CGENERAL');

let t: TestCore;
let slack: MemoryChat;
let discord: MemoryChat;
let acmeInbox: ChannelRef;
let seq = 0;
let orgIds: Record<string, number>;

async function say(text: string, user: UserRef = KADRI, channel: ChannelRef = GENERAL) {
  const reply = (await t.core.inbound.command({
    deliveryKey: `k-${++seq}`,
    user,
    channel,
    text,
  })) as CommandReply;
  return renderPlainText(reply.message);
}

/** Posts every pending delivery, as the delivery worker would, until none is left. */
async function drain() {
  for (let round = 0; round < 5; round++) {
    const open = await t.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(eq(deliveries.status, 'pending'))
      .orderBy(deliveries.id);
    if (open.length === 0) return;
    for (const { id } of open) {
      await sendDelivery(t.db, t.core.chat, id, { last: round === 4 }).catch(() => {});
    }
  }
}

const dmsTo = (chat: MemoryChat, user: UserRef) =>
  chat.directs.filter((d) => d.user === user).map((d) => renderPlainText(d.message));
const textOf = (m: { message: Parameters<typeof renderPlainText>[0] }) =>
  renderPlainText(m.message);

async function press(user: UserRef, message: MessageRef, action: string, value: string) {
  const reply = await t.core.inbound.action({
    deliveryKey: `press-${++seq}`,
    user,
    channel: (message.startsWith('discord') ? discord : slack).channelOf(message),
    message,
    action,
    value,
  });
  return reply ? renderPlainText(reply.message) : '';
}

async function reply(user: UserRef, thread: MessageRef, text: string) {
  const chat = thread.startsWith('discord') ? discord : slack;
  await t.core.inbound.message({
    deliveryKey: `msg-${++seq}`,
    user,
    channel: chat.channelOf(thread),
    message: `${thread}-reply-${seq}` as MessageRef,
    thread,
    text,
  });
  await drain();
}

async function cardOf(key: string) {
  const [row] = await t.db.select().from(deliveries).where(eq(deliveries.key, key));
  if (!row?.messageRef) throw new Error(`card ${key} not posted`);
  return row.messageRef as MessageRef;
}

const messageAt = (ref: MessageRef) =>
  [...slack.messages, ...discord.messages].find((m) => m.ref === ref);

beforeEach(async () => {
  slack = new MemoryChat('slack');
  discord = new MemoryChat('discord');
  t = await makeTestCore({
    deliver: async (rows) => {
      for (const row of rows) await postClaimed(t.db, t.core.chat, row, { last: true });
    },
  });
  t.core.chat.register(slack);
  t.core.chat.register(discord);
  const est = await makeOrganisation(t.db, { code: 'EST', kind: 'delegation' });
  const acme = await makeOrganisation(t.db, { code: 'ACME', kind: 'industry' });
  const deu = await makeOrganisation(t.db, { code: 'DEU', kind: 'delegation' });
  const fra = await makeOrganisation(t.db, { code: 'FRA', kind: 'delegation' });
  orgIds = { EST: est.id, ACME: acme.id, DEU: deu.id, FRA: fra.id };
  const person = (
    handle: string,
    name: string,
    orgId: number,
    role: 'delegate' | 'liaison',
    ref: UserRef,
  ) =>
    makePerson(t.db, {
      handle,
      name,
      orgId,
      role,
      ...(ref.startsWith('slack') ? { slack: ref.slice(6) } : { discord: ref.slice(8) }),
    });
  await person('kadri', 'Kadri Tamm', est.id, 'delegate', KADRI);
  const bob = await person('bob', 'Bob Stone', acme.id, 'liaison', BOB);
  const carol = await person('carol', 'Carol Diaz', acme.id, 'liaison', CAROL);
  const anna = await person('anna', 'Anna Berg', deu.id, 'liaison', ANNA);
  const dan = await person('dan', 'Dan Vogel', deu.id, 'liaison', DAN);
  const eve = await person('eve', 'Eve Weber', deu.id, 'liaison', EVE);
  await makeContact(t.db, { orgId: acme.id, personId: bob.id, capability: 'forensics', rank: 0 });
  await makeContact(t.db, { orgId: acme.id, personId: carol.id, capability: 'forensics', rank: 1 });
  await makeContact(t.db, { orgId: deu.id, personId: anna.id, capability: 'forensics', rank: 0 });
  await makeContact(t.db, { orgId: deu.id, personId: dan.id, capability: 'legal', rank: 0 });
  await makeContact(t.db, {
    orgId: deu.id,
    personId: eve.id,
    capability: 'early-warning',
    rank: 0,
  });
  const finn = await makePerson(t.db, {
    handle: 'finn',
    name: 'Finn Roux',
    orgId: fra.id,
    role: 'liaison',
  });
  await makeContact(t.db, { orgId: fra.id, personId: finn.id, capability: 'legal', rank: 0 });
  acmeInbox = await discord.createChannel({ name: 'acme-inbox', private: true });
  await t.db
    .insert(orgInboxes)
    .values({ orgId: acme.id, platform: 'discord', channel: acmeInbox, private: true });
});

afterEach(async () => {
  await t.close();
});

describe('/assist request', () => {
  it('routes to each organisation’s primary, inbox first, reports who has no contact, and tracks it for the requester', async () => {
    const answer = await say(
      '/assist request Memory image of a domain controller needs analysis capability:forensics urgency:critical',
    );
    expect(answer).toContain('✓ AR-2026-1 sent to 2 organisations');
    expect(answer).toContain('ACME (inbox)');
    expect(answer).toContain('DEU (Anna Berg, direct message)');
    expect(answer).toContain('No forensics contact: FRA');
    await drain();
    const [card] = discord.in(acmeInbox);
    expect(card && textOf(card)).toContain('TLP:AMBER 🆘 AR-2026-1');
    expect(card && textOf(card)).toContain('From: Kadri Tamm (EST)');
    expect(card && textOf(card)).toContain('[Accept] [Decline]');
    expect(dmsTo(slack, ANNA)[0]).toContain('Memory image of a domain controller');
    expect(dmsTo(slack, KADRI)[0]).toContain('AR-2026-1 · your request for assistance');
    const escalations = await t.db
      .select()
      .from(scheduledItems)
      .where(eq(scheduledItems.kind, 'assist.escalate'));
    expect(escalations.map((e) => [e.subject, e.dueAt.getTime() - t.now.getTime()]).sort()).toEqual(
      [
        ['AR-2026-1/ACME', 15 * 60_000],
        ['AR-2026-1/DEU', 15 * 60_000],
      ],
    );
    const [audit] = await t.db.select().from(auditLog).where(eq(auditLog.action, 'assist.request'));
    expect(audit?.subject).toBe('request:AR-2026-1');
  });

  it('relays answers both ways across platforms, and updates every card on accept and close', async () => {
    await say('/assist request Need a forensic look capability:forensics to:ACME,DEU');
    await drain();
    const acmeCard = await cardOf('AR-2026-1/ACME/inbox');
    const tracking = await cardOf('AR-2026-1/requester');
    const acmeRouting = (
      await t.db
        .select()
        .from(routings)
        .where(eq(routings.orgId, orgIds.ACME as number))
    )[0];
    expect(await press(BOB, acmeCard, 'assist.accept', String(acmeRouting?.id))).toContain(
      'ACME accepted',
    );
    await drain();
    expect(textOf(messageAt(acmeCard) as never)).toContain('accepted by Bob Stone');
    expect(textOf(messageAt(acmeCard) as never)).not.toContain('[Accept]');
    const pending = await t.db
      .select()
      .from(scheduledItems)
      .where(
        and(eq(scheduledItems.subject, 'AR-2026-1/ACME'), eq(scheduledItems.status, 'pending')),
      );
    expect(pending).toEqual([]);

    await reply(BOB, acmeCard, 'We can take the image tonight');
    const inKadriThread = slack.messages.filter((m) => m.thread === tracking).map(textOf);
    expect(
      inKadriThread.some(
        (m) => m.includes('Bob Stone (ACME)') && m.includes('We can take the image tonight'),
      ),
    ).toBe(true);

    await reply(KADRI, tracking, 'Thanks, uploading now');
    const inAcmeThread = discord.messages.filter((m) => m.thread === acmeCard).map(textOf);
    expect(
      inAcmeThread.some((m) => m.includes('Kadri Tamm (EST)') && m.includes('uploading now')),
    ).toBe(true);
    // DEU has not engaged: nothing of the conversation reaches Anna.
    expect(dmsTo(slack, ANNA).join('\n')).not.toContain('uploading now');

    expect(await say('/assist close AR-2026-1 outcome:resolved')).toContain('AR-2026-1 closed');
    await drain();
    expect(textOf(messageAt(acmeCard) as never)).toContain('closed (resolved)');
    expect(textOf(messageAt(tracking) as never)).toContain('Closed: resolved');
    const open = await t.db
      .select()
      .from(scheduledItems)
      .where(and(eq(scheduledItems.kind, 'assist.escalate'), eq(scheduledItems.status, 'pending')));
    expect(open).toEqual([]);
  });

  it('refuses an answer from another organisation, and changes nothing', async () => {
    await say('/assist request Need a forensic look capability:forensics to:ACME');
    await drain();
    const acmeCard = await cardOf('AR-2026-1/ACME/inbox');
    const [routing] = await t.db.select().from(routings);
    const before = await tableCounts(t.db);
    expect(await press(ANNA, acmeCard, 'assist.accept', String(routing?.id))).toContain(
      "only ACME's people may answer AR-2026-1",
    );
    expect(await tableCounts(t.db)).toEqual(before);
  });

  it('escalates to the backup, then to the organisation’s other contacts, telling the requester each step', async () => {
    await say('/assist request Need a forensic look capability:forensics to:DEU urgency:urgent');
    await drain();
    const tracking = await cardOf('AR-2026-1/requester');
    const fire = async () => {
      const [item] = await t.db
        .select()
        .from(scheduledItems)
        .where(
          and(eq(scheduledItems.subject, 'AR-2026-1/DEU'), eq(scheduledItems.status, 'pending')),
        );
      if (!item) throw new Error('no pending escalation');
      const now = new Date(item.dueAt.getTime());
      const again = await t.db.transaction((tx) =>
        escalateRouting({
          tx,
          item,
          now,
          schedule: async () => {
            throw new Error('not expected');
          },
          deliver: async (input) => {
            await writeDelivery(tx, input);
          },
        }),
      );
      await t.db
        .update(scheduledItems)
        .set(again ? { dueAt: again.again, generation: item.generation + 1 } : { status: 'done' })
        .where(eq(scheduledItems.id, item.id));
      await drain();
      return again;
    };
    expect(await fire()).toEqual({ again: expect.any(Date) });
    expect(dmsTo(slack, DAN)[0]).toContain('AR-2026-1');
    const notes = () => slack.messages.filter((m) => m.thread === tracking).map(textOf);
    expect(notes().join('\n')).toContain(
      "DEU's Anna Berg (primary) did not answer within 1h; now asking Dan Vogel (another contact)",
    );
    expect(await fire()).toEqual({ again: expect.any(Date) });
    expect(dmsTo(slack, EVE)[0]).toContain('AR-2026-1');
    expect(await fire()).toBeUndefined();
    expect(notes().join('\n')).toContain('has nobody else to ask');
  });

  it('stops escalating once the organisation accepts', async () => {
    await say('/assist request Need a forensic look capability:forensics to:ACME urgency:critical');
    await drain();
    const [routing] = await t.db.select().from(routings);
    await press(BOB, await cardOf('AR-2026-1/ACME/inbox'), 'assist.accept', String(routing?.id));
    const items = await t.db
      .select()
      .from(scheduledItems)
      .where(eq(scheduledItems.kind, 'assist.escalate'));
    expect(items.map((i) => i.status)).toEqual(['cancelled']);
  });
});

describe('the TLP table for routed requests', () => {
  it('AMBER skips an inbox that is not private and goes to the contact directly, saying so', async () => {
    await t.db.update(orgInboxes).set({ private: false });
    const answer = await say('/assist request Look at this capability:forensics to:ACME');
    expect(answer).toContain('ACME (Bob Stone, direct message)');
    expect(answer).toContain("ACME's inbox is not private: sent to Bob Stone directly");
    await drain();
    expect(discord.in(acmeInbox)).toEqual([]);
    expect(dmsTo(discord, BOB)[0]).toContain('TLP:AMBER');
  });

  it('GREEN and CLEAR may use an inbox that is not private', async () => {
    await t.db.update(orgInboxes).set({ private: false });
    expect(await say('/assist request Look capability:forensics to:ACME tlp:green')).toContain(
      'ACME (inbox)',
    );
    expect(await say('/assist request Look capability:forensics to:ACME tlp:clear')).toContain(
      'ACME (inbox)',
    );
  });

  it('AMBER+STRICT and RED go only to named organisations: broad addressees are refused and nothing is written', async () => {
    const before = await tableCounts(t.db);
    expect(await say('/assist request Look capability:forensics tlp:amber+strict')).toContain(
      'TLP:AMBER+STRICT requests go only to organisations named with to:<codes>, not to:all',
    );
    expect(await say('/assist request Look capability:forensics tlp:red to:delegations')).toContain(
      'TLP:RED requests go only to organisations named with to:<codes>',
    );
    expect(await tableCounts(t.db)).toEqual(before);
  });

  it('AMBER+STRICT goes to a named organisation’s private inbox', async () => {
    expect(
      await say('/assist request Look capability:forensics tlp:amber+strict to:ACME'),
    ).toContain('ACME (inbox)');
  });

  it('RED never goes to a channel, even a private inbox: only to the named contact directly', async () => {
    const answer = await say('/assist request Look capability:forensics tlp:red to:ACME,DEU');
    expect(answer).toContain('ACME (Bob Stone, direct message)');
    expect(answer).toContain('DEU (Anna Berg, direct message)');
    await drain();
    expect(discord.in(acmeInbox)).toEqual([]);
    expect(dmsTo(discord, BOB)[0]).toContain('TLP:RED');
  });

  it('a request about an incident takes its level, and only the incident’s opener may send it lower', async () => {
    await say('/incident open Ransomware tlp:amber orgs:ACME');
    const inherited = await say(
      '/assist request Look capability:forensics to:DEU incident:INC-2026-1',
    );
    expect(inherited).toContain('TLP:AMBER ✓ AR-2026-1');
    const before = await tableCounts(t.db);
    expect(
      await say(
        '/assist request Look capability:forensics to:DEU incident:INC-2026-1 tlp:green',
        BOB,
      ),
    ).toContain('INC-2026-1 is TLP:AMBER: only the originator may lower TLP:AMBER to TLP:GREEN');
    expect(await tableCounts(t.db)).toEqual(before);
    expect(
      await say('/assist request Look capability:forensics to:DEU incident:INC-2026-1 tlp:green'),
    ).toContain('TLP:GREEN ✓ AR-2026-2');
  });

  it('bad input gets one line and writes nothing', async () => {
    const before = await tableCounts(t.db);
    expect(await say('/assist request Look capability:forensics to:NOPE')).toContain(
      'unknown organisation NOPE',
    );
    expect(await say('/assist request Look capability:forensics to:acme!')).toContain(
      'to: takes all, industry, delegations',
    );
    expect(await say('/assist request Look capability:cooking')).toContain(
      'nobody to send the request to: no cooking contact',
    );
    expect(await say('/assist request capability:forensics')).toContain('Usage: /assist request');
    expect(await tableCounts(t.db)).toEqual(before);
  });
});

describe('/assist list', () => {
  it('shows open requests to the requester’s organisation and to the asked ones, each seeing its own answer', async () => {
    await say('/assist request Need a forensic look capability:forensics to:ACME,DEU');
    expect(await say('/assist list')).toContain('AR-2026-1 · routine · open');
    const asAnna = await say('/assist list', ANNA);
    expect(asAnna).toContain('DEU: waiting');
    expect(asAnna).not.toContain('ACME:');
    expect(await say('/assist list mine', ANNA)).toContain('You have made no requests');
  });
});

describe('/alert', () => {
  it('warns every delegation’s early-warning contact, takes acknowledgements, and reports status', async () => {
    const answer = await say('/alert Phishing wave against ministries severity:high');
    expect(answer).toContain('✓ EW-2026-1 sent to 1 organisation');
    expect(answer).toContain('DEU (Eve Weber, direct message)');
    expect(answer).toContain('No early-warning contact: FRA');
    await drain();
    expect(dmsTo(slack, EVE)[0]).toContain('[Acknowledge]');
    const [routing] = await t.db.select().from(routings);
    const [card] = await t.db
      .select()
      .from(deliveries)
      .where(inArray(deliveries.key, ['EW-2026-1/DEU/direct/' + String(routing?.asked[0])]));
    expect(await say('/alert status EW-2026-1')).toContain('Outstanding: DEU: waiting');
    expect(
      await press(EVE, card?.messageRef as MessageRef, 'alert.ack', String(routing?.id)),
    ).toContain('DEU acknowledged');
    expect(await say('/alert status EW-2026-1')).toMatch(
      /Acknowledged: DEU: acknowledged by Eve Weber/,
    );
    const items = await t.db
      .select()
      .from(scheduledItems)
      .where(eq(scheduledItems.kind, 'alert.escalate'));
    expect(items.map((i) => i.status)).toEqual(['cancelled']);
  });
});
