import { and, count, eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatFailure } from '../../src/chat/errors.js';
import { renderPlainText } from '../../src/chat/message.js';
import type { CommandReply } from '../../src/chat/port.js';
import { type ChannelRef, channelRef, type MessageRef, userRef } from '../../src/chat/refs.js';
import {
  auditLog,
  incidentChannels,
  incidents,
  scheduledItems,
} from '../../src/db/schema/index.js';
import { incidentStatusReminder } from '../../src/domain/incidents/reminders.js';
import { postClaimed } from '../../src/jobs/send-delivery.js';
import { makeTestCore, type TestCore, tableCounts } from '../support/core.js';
import { makeContact, makeOrganisation, makePerson } from '../support/factories.js';
import { fireDirectly } from '../support/jobs.js';
import { MemoryChat } from '../support/memory-chat.js';

const KADRI = userRef('slack', 'U1');
const EVE = userRef('slack', 'U3');
const BOB = userRef('discord', 'D2');
const GENERAL = channelRef('slack', 'CGENERAL');

let t: TestCore;
let slack: MemoryChat;
let discord: MemoryChat;
let seq = 0;

async function say(text: string, user = KADRI, channel: ChannelRef = GENERAL) {
  const reply = (await t.core.inbound.command({
    deliveryKey: `k-${++seq}`,
    user,
    channel,
    text,
  })) as CommandReply;
  return renderPlainText(reply.message);
}

async function channelsOf(ref: string) {
  const [incident] = await t.db.select().from(incidents).where(eq(incidents.ref, ref));
  if (!incident) throw new Error(`no ${ref}`);
  const rows = await t.db
    .select()
    .from(incidentChannels)
    .where(eq(incidentChannels.incidentId, incident.id));
  const on = (platform: string) => rows.find((r) => r.platform === platform);
  return { incident, slack: on('slack'), discord: on('discord') };
}

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
  const acme = await makeOrganisation(t.db, { code: 'ACME' });
  const deu = await makeOrganisation(t.db, { code: 'DEU', kind: 'delegation' });
  await makePerson(t.db, {
    handle: 'kadri',
    name: 'Kadri Tamm',
    orgId: est.id,
    role: 'delegate',
    slack: 'U1',
  });
  const bob = await makePerson(t.db, {
    handle: 'bob',
    name: 'Bob Stone',
    orgId: acme.id,
    role: 'liaison',
    discord: 'D2',
  });
  const eve = await makePerson(t.db, {
    handle: 'eve',
    name: 'Eve Weber',
    orgId: deu.id,
    role: 'delegate',
    slack: 'U3',
  });
  await makeContact(t.db, { orgId: acme.id, personId: bob.id });
  await makeContact(t.db, { orgId: deu.id, personId: eve.id });
});

afterEach(async () => {
  await t.close();
});

describe('opening an incident', () => {
  it('makes a private channel with the contacts, a Discord twin for the Discord liaison, and pins a card in both', async () => {
    const reply = await say('/incident open Ransomware at the port severity:high orgs:ACME,DEU');
    expect(reply).toContain('INC-2026-1 opened');
    const { slack: primary, discord: twin } = await channelsOf('INC-2026-1');
    const main = slack.channels.get(primary?.channel as string);
    const other = discord.channels.get(twin?.channel as string);
    expect(main?.name).toBe('inc-2026-1-ransomware-at-the-port');
    expect(main?.private).toBe(true);
    expect([...(main?.members ?? [])].sort()).toEqual([KADRI, EVE].sort());
    expect(other?.name).toBe('inc-2026-1-ransomware-at-the-port');
    expect([...(other?.members ?? [])]).toEqual([BOB]);
    for (const [chat, channel] of [
      [slack, main],
      [discord, other],
    ] as const) {
      const [card] = chat.in(channel?.ref as ChannelRef);
      expect(renderPlainText(card?.message ?? {})).toMatch(
        /^TLP:AMBER INC-2026-1 · Ransomware at the port/,
      );
      expect(channel?.pins.has(card?.ref as MessageRef)).toBe(true);
    }
    expect(reply).toContain(`https://slack.example/${primary?.channel?.slice(6)}`);
    expect(reply).toContain('(twin)');
    const [audits] = await t.db
      .select({ n: count() })
      .from(auditLog)
      .where(eq(auditLog.action, 'incident.open'));
    expect(audits?.n).toBe(1);
  });

  it('runs a redelivered command once', async () => {
    const command = {
      deliveryKey: 'slack:cmd:T1',
      user: KADRI,
      channel: GENERAL,
      text: '/incident open Phishing wave',
    };
    const first = await t.core.inbound.command(command);
    const again = await t.core.inbound.command(command);
    expect(first?.message.title).toContain('opened');
    expect(again).toBeNull();
    const [n] = await t.db.select({ n: count() }).from(incidents);
    expect(n?.n).toBe(1);
    expect(slack.calls.filter((c) => c === 'createChannel')).toHaveLength(1);
  });

  it('takes the next name when the channel name is taken', async () => {
    slack.occupy('inc-2026-1-phishing-wave');
    await say('/incident open Phishing wave');
    expect(slack.byName('inc-2026-1-phishing-wave-2')).toBeDefined();
  });

  it('tells the opener what the workspace admin must grant, and finishes once it is granted', async () => {
    slack.failOn(
      'createChannel',
      () => new ChatFailure('missing_permission', 'missing_scope', 'the groups:write scope'),
    );
    const reply = await say('/incident open Phishing wave');
    expect(reply).toContain('the workspace admin must grant the groups:write scope');
    expect(slack.channels.size).toBe(0);
    await t.core.incidents.resumePending();
    expect(slack.byName('inc-2026-1-phishing-wave')).toBeDefined();
    const { incident } = await channelsOf('INC-2026-1');
    expect(incident.provision).toBe('ready');
  });

  it('resumes after a crash between creating the channel and recording it, without a second channel', async () => {
    const create = slack.createChannel.bind(slack);
    let crashes = 1;
    slack.createChannel = async (spec) => {
      const ref = await create(spec);
      if (crashes-- > 0) throw new Error('connection reset after the channel was made');
      return ref;
    };
    const reply = await say('/incident open Wiper malware orgs:DEU');
    expect(reply).toContain('still being prepared');
    await t.core.incidents.resumePending();
    expect(
      [...slack.channels.values()].filter((c) => c.name.startsWith('inc-2026-1')),
    ).toHaveLength(1);
    const { slack: row } = await channelsOf('INC-2026-1');
    const channel = slack.channels.get(row?.channel as string);
    expect([...(channel?.members ?? [])].sort()).toEqual([KADRI, EVE].sort());
    expect(slack.in(channel?.ref as ChannelRef)).toHaveLength(1);
  });

  it('resumes after a crash between creating the channel and recording it with the invitations, once the lease taken at open runs out', async () => {
    // The process that opened it is stuck (as good as dead) in the invitation: the channel
    // exists, nothing about it is recorded beyond its name, and the open's lease is held.
    const invite = slack.invite.bind(slack);
    let stuck = false;
    slack.invite = async (channel, users) => {
      stuck = true;
      await invite(channel, users);
      await new Promise(() => {});
    };
    void say('/incident open Wiper malware orgs:DEU');
    await vi.waitFor(() => expect(stuck).toBe(true));
    slack.invite = invite;
    const { slack: before } = await channelsOf('INC-2026-1');
    expect(before).toMatchObject({ channel: null, createAttempted: true, invited: [] });

    const restarted = await makeTestCore({ storage: t.storage });
    restarted.core.chat.register(slack);
    expect(await restarted.core.incidents.resumePending()).toBe(0);
    await t.db
      .update(incidents)
      .set({ provisionLease: sql`now() - interval '1 second'` })
      .where(eq(incidents.ref, 'INC-2026-1'));
    expect(await restarted.core.incidents.resumePending()).toBe(1);

    const { slack: row, incident } = await channelsOf('INC-2026-1');
    expect(incident.provision).toBe('ready');
    expect(slack.calls.filter((c) => c === 'createChannel')).toHaveLength(1);
    expect(slack.calls).toContain('findChannel');
    const channel = slack.channels.get(row?.channel as string);
    expect(channel?.name).toBe('inc-2026-1-wiper-malware');
    expect([...(channel?.members ?? [])].sort()).toEqual([KADRI, EVE].sort());
    expect(slack.in(channel?.ref as ChannelRef)).toHaveLength(1);
  });

  it('records a new channel when inviting to it fails, so the next pass neither makes it again nor looks for it', async () => {
    slack.failOn('invite', () => new Error('connection reset'));
    const reply = await say('/incident open Wiper malware orgs:DEU');
    expect(reply).toContain('still being prepared');
    const { slack: failed } = await channelsOf('INC-2026-1');
    expect(failed?.channel).toBe(slack.byName('inc-2026-1-wiper-malware')?.ref);
    expect(failed?.invited).toEqual([]);

    await t.core.incidents.resumePending();
    const { slack: row, incident } = await channelsOf('INC-2026-1');
    expect(incident.provision).toBe('ready');
    expect(slack.calls.filter((c) => c === 'createChannel')).toHaveLength(1);
    expect(slack.calls).not.toContain('findChannel');
    const channel = slack.channels.get(row?.channel as string);
    expect([...(channel?.members ?? [])].sort()).toEqual([KADRI, EVE].sort());
    expect(slack.in(channel?.ref as ChannelRef)).toHaveLength(1);
  });
});

describe('TLP', () => {
  it('refuses an AMBER+STRICT incident shared by several organisations and changes nothing', async () => {
    const before = await tableCounts(t.db);
    const reply = await say('/incident open Leak tlp:amber+strict orgs:ACME');
    expect(reply).toMatch(
      /^⚠ TLP:AMBER\+STRICT never goes to a channel shared by several organisations/,
    );
    expect(await tableCounts(t.db)).toEqual(before);
    expect(slack.channels.size).toBe(0);
  });

  it('makes a public channel at GREEN and a private one at RED', async () => {
    await say('/incident open Scanning campaign tlp:green');
    await say('/incident open Insider tlp:red');
    expect(slack.byName('inc-2026-1-scanning-campaign')?.private).toBe(false);
    expect(slack.byName('inc-2026-2-insider')?.private).toBe(true);
  });
});

describe('the bridge', () => {
  async function openBridged() {
    await say('/incident open Ransomware orgs:ACME');
    const rows = await channelsOf('INC-2026-1');
    return { main: rows.slack?.channel as ChannelRef, twin: rows.discord?.channel as ChannelRef };
  }

  it('relays messages both ways, labelled, with threads and edits, and never twice', async () => {
    const { main, twin } = await openBridged();
    const original = 'slack:CX/100.1' as MessageRef;
    const message = {
      deliveryKey: 'slack:evt:E1',
      user: KADRI,
      channel: main,
      message: original,
      text: 'Hosts isolated',
    };
    await t.core.inbound.message(message);
    await t.core.inbound.message(message);
    const copies = discord.in(twin).filter((m) => m.message.body === 'Hosts isolated');
    expect(copies).toHaveLength(1);
    expect(renderPlainText(copies[0]?.message ?? {})).toBe(
      'TLP:AMBER Kadri Tamm (EST)\nHosts isolated',
    );

    await t.core.inbound.message({
      deliveryKey: 'discord:msg:9',
      user: BOB,
      channel: twin,
      message: 'discord:X/9' as MessageRef,
      thread: copies[0]?.ref as MessageRef,
      text: 'Which hosts?',
    });
    const answer = slack.in(main).find((m) => m.message.body === 'Which hosts?');
    expect(answer?.thread).toBe(original);
    expect(answer?.message.title).toBe('Bob Stone (ACME)');

    await t.core.inbound.message({
      ...message,
      deliveryKey: 'slack:evt:E2',
      text: 'Hosts isolated: 12',
      edited: true,
    });
    expect(copies[0]?.message.body).toBe('Hosts isolated: 12');
    expect(copies[0]?.edits).toBe(1);
  });

  it('relays a message carrying a NUL without it (Postgres cannot store one)', async () => {
    const { main, twin } = await openBridged();
    await t.core.inbound.message({
      deliveryKey: 'slack:evt:NUL1',
      user: KADRI,
      channel: main,
      message: 'slack:CX/200.1' as MessageRef,
      text: 'Hosts\u0000 isolated',
    });
    expect(discord.in(twin).map((m) => m.message.body)).toContain('Hosts isolated');
  });

  it('relays nothing from channels that are not an incident’s', async () => {
    await openBridged();
    const before = discord.messages.length;
    await t.core.inbound.message({
      deliveryKey: 'slack:evt:E9',
      user: KADRI,
      channel: GENERAL,
      message: 'slack:CG/1' as MessageRef,
      text: 'hello',
    });
    expect(discord.messages.length).toBe(before);
  });

  it('close archives both channels after posting the report, and schedules the review', async () => {
    const { main, twin } = await openBridged();
    await say('/incident update Backups verified', KADRI, main);
    await say('/incident close Restored', BOB, twin);
    for (const [chat, channel] of [
      [slack, main],
      [discord, twin],
    ] as const) {
      expect(chat.channels.get(channel)?.archived).toBe(true);
      const report = chat.in(channel).at(-1);
      expect(report?.message.title).toBe('INC-2026-1 timeline report');
      expect(report?.message.body).toContain('update: Backups verified');
    }
    const [review] = await t.db
      .select()
      .from(scheduledItems)
      .where(
        and(eq(scheduledItems.kind, 'incident.review'), eq(scheduledItems.subject, 'INC-2026-1')),
      );
    expect(review?.dueAt.toISOString()).toBe('2026-11-29T09:00:00.000Z');
    const reply = await say('/incident update too late', KADRI, main);
    expect(reply).toContain('INC-2026-1 is closed');
  });
});

describe('status reminders', () => {
  it('asks every channel of an active incident for news at the severity interval, and stops once stable', async () => {
    await say('/incident open Outage severity:critical orgs:ACME');
    const [item] = await t.db
      .select()
      .from(scheduledItems)
      .where(eq(scheduledItems.kind, 'incident.status-reminder'));
    expect(item?.dueAt.toISOString()).toBe('2026-11-22T10:00:00.000Z');
    if (!item) throw new Error('no reminder');
    const outcome = await fireDirectly(t.db, incidentStatusReminder, item, item.dueAt);
    expect(outcome).toEqual({ again: new Date('2026-11-22T11:00:00.000Z') });
    const { slack: main } = await channelsOf('INC-2026-1');
    await say('/incident status stable', KADRI, main?.channel as ChannelRef);
    expect(await fireDirectly(t.db, incidentStatusReminder, item, item.dueAt)).toBeUndefined();
  });
});
