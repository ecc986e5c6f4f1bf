import { count, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { auditLog, incidents } from '../../src/db/schema/index.js';
import {
  type FakeSlack,
  slackContractViolations,
  slackEnvelopeViolations,
  startFakeSlack,
} from '../fakes/slack/index.js';
import { type Concord, startConcord } from '../support/concord-harness.js';
import { makeContact, makeOrganisation, makePerson } from '../support/factories.js';

// The whole of Concord (core, jobs, HTTP, the real Bolt adapter) against the fake Slack.

let fake: FakeSlack;
let concord: Concord;
let events: string;
let kadri: { id: string };
let bob: { id: string };
let ops: { id: string };

beforeEach(async () => {
  fake = await startFakeSlack({ rateLimits: false });
  concord = await startConcord({
    ...fake.concordEnv(),
  });
  events = `${concord.url}/slack/events`;
  kadri = fake.addUser({ name: 'kadri' });
  bob = fake.addUser({ name: 'bob' });
  ops = fake.addChannel({ name: 'ops', members: [fake.botUserId, kadri.id] });
  const est = await makeOrganisation(concord.db, { code: 'EST', kind: 'delegation' });
  const acme = await makeOrganisation(concord.db, { code: 'ACME' });
  await makePerson(concord.db, {
    handle: 'kadri',
    name: 'Kadri Tamm',
    orgId: est.id,
    role: 'delegate',
    slack: kadri.id,
  });
  const liaison = await makePerson(concord.db, {
    handle: 'bob',
    name: 'Bob Stone',
    orgId: acme.id,
    role: 'liaison',
    slack: bob.id,
  });
  await makeContact(concord.db, { orgId: acme.id, personId: liaison.id });
});

afterEach(async () => {
  await concord.close();
  await fake.close();
  expect(slackContractViolations(fake.calls)).toEqual([]);
  expect(slackEnvelopeViolations(fake.envelopes)).toEqual([]);
  expect(fake.responseViolations).toEqual([]);
  expect(fake.ackTimeouts).toEqual([]);
});

const channelNamed = (name: string) => {
  const channel = fake.channelByName(name);
  if (!channel) throw new Error(`no channel ${name}`);
  return channel;
};

describe('an incident on Slack', () => {
  it('opens with the right people, a pinned card and a link; updates, closes, reports and archives', async () => {
    const open = await fake.sendCommand(events, {
      command: '/incident',
      text: 'open Ransomware at the port severity:high orgs:ACME',
      user_id: kadri.id,
      channel_id: ops.id,
    });
    expect(open.status).toBe(200);
    expect(open.ackMs).toBeLessThan(3000);
    await vi.waitFor(() => expect(fake.responses).toHaveLength(1), { timeout: 5000 });
    const channel = channelNamed('inc-2026-1-ransomware-at-the-port');
    expect(channel.is_private).toBe(true);
    expect([...channel.members].sort()).toEqual([fake.botUserId, kadri.id, bob.id].sort());
    const [card] = fake.messagesIn(channel.id);
    expect(card?.text).toMatch(/^TLP:AMBER INC-\d{4}-1 · Ransomware at the port/);
    expect(fake.state.pins.get(channel.id)).toEqual([card?.ts]);
    const reply = fake.responses[0]?.body as { response_type: string; text: string };
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain(`https://slack.com/app_redirect?channel=${channel.id}`);

    await fake.sendCommand(events, {
      command: '/incident',
      text: 'update Hosts isolated',
      user_id: kadri.id,
      channel_id: channel.id,
    });
    await vi.waitFor(() => expect(fake.responses).toHaveLength(2));
    expect(fake.messagesIn(channel.id)[0]?.text).toContain('Latest: Hosts isolated');
    expect(fake.messagesIn(channel.id).at(-1)?.text).toContain(
      'Kadri Tamm (@kadri, EST): Hosts isolated',
    );

    await fake.sendCommand(events, {
      command: '/incident',
      text: 'close Restored from backups',
      user_id: bob.id,
      channel_id: channel.id,
    });
    await vi.waitFor(() => expect(fake.responses).toHaveLength(3));
    expect(channel.archived).toBe(true);
    const report = fake.messagesIn(channel.id).at(-1);
    expect(report?.text).toContain('INC-2026-1 timeline report');
    expect(report?.text).toContain('update: Hosts isolated');
    const order = fake.calls.map((c) => c.method);
    expect(order.lastIndexOf('chat.postMessage')).toBeLessThan(
      order.indexOf('conversations.archive'),
    );
  });

  it('turns one command delivered 4 times into one incident, one card and one audit row', async () => {
    const command = {
      command: '/incident',
      text: 'open Phishing wave',
      user_id: kadri.id,
      channel_id: ops.id,
      trigger_id: '1111.2222.retried',
    };
    for (let n = 0; n < 4; n++) {
      const sent = await fake.sendCommand(events, command, n > 0 ? { retryNum: n } : {});
      expect(sent.status).toBe(200);
    }
    await vi.waitFor(() => expect(fake.callsTo('pins.add')).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [opened] = await concord.db.select({ n: count() }).from(incidents);
    const [audits] = await concord.db
      .select({ n: count() })
      .from(auditLog)
      .where(eq(auditLog.action, 'incident.open'));
    expect(opened?.n).toBe(1);
    expect(audits?.n).toBe(1);
    expect(fake.callsTo('conversations.create')).toHaveLength(1);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('gives forged, stale, future-dated and replayed commands 401 and changes nothing', async () => {
    const command = {
      command: '/incident',
      text: 'open Forged',
      user_id: kadri.id,
      channel_id: ops.id,
    };
    const first = await fake.sendCommand(events, command);
    await vi.waitFor(() => expect(fake.callsTo('pins.add')).toHaveLength(1));
    const results = [
      await fake.sendCommand(events, command, { forgeSignature: true }),
      await fake.sendCommand(events, command, { timestampOffsetSec: -301 }),
      await fake.sendCommand(events, command, { timestampOffsetSec: 301 }),
      await fake.replay(first.request),
    ];
    expect(results.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [opened] = await concord.db.select({ n: count() }).from(incidents);
    expect(opened?.n).toBe(1);
    expect(fake.callsTo('conversations.create')).toHaveLength(1);
  });

  it('lets someone outside the directory ask who they are and how to be added, and nothing else', async () => {
    const stranger = fake.addUser({ name: 'stranger' });
    const ask = (text: string) =>
      fake.sendCommand(events, {
        command: text.split(' ')[0] as string,
        text: text.split(' ').slice(1).join(' '),
        user_id: stranger.id,
        channel_id: ops.id,
      });
    await ask('/concord whoami');
    await ask('/incident open Let me in');
    await vi.waitFor(() => expect(fake.responses).toHaveLength(2));
    const answers = fake.responses.map((r) => String(r.body.text)).join('\n');
    expect(answers).toContain(`You are slack:${stranger.id}, not in Concord's directory`);
    expect(answers).toContain(
      "you are not in Concord's directory yet: ask an admin to run /org member",
    );
    const [opened] = await concord.db.select({ n: count() }).from(incidents);
    expect(opened?.n).toBe(0);
    expect(fake.callsTo('conversations.create')).toHaveLength(0);
  });

  it('tells the opener which scope the workspace admin must grant', async () => {
    fake.scopes.delete('groups:write');
    await fake.sendCommand(events, {
      command: '/incident',
      text: 'open No scope',
      user_id: kadri.id,
      channel_id: ops.id,
    });
    await vi.waitFor(() => expect(fake.responses).toHaveLength(1), { timeout: 5000 });
    expect(String(fake.responses[0]?.body.text)).toContain(
      'the workspace admin must grant the groups:write scope',
    );
  });
});
