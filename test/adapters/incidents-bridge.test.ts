import { count, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { auditLog, incidents } from '../../src/db/schema/index.js';
import {
  discordContractViolations,
  type FakeDiscord,
  startFakeDiscord,
} from '../fakes/discord/index.js';
import { type FakeSlack, slackContractViolations, startFakeSlack } from '../fakes/slack/index.js';
import { type Concord, startConcord } from '../support/concord-harness.js';
import { makeContact, makeOrganisation, makePerson } from '../support/factories.js';

// Concord on both platforms at once: an incident opened on Slack by a delegate, with an industry
// liaison who is only on Discord, gets a Discord twin; the two are bridged both ways.

let slack: FakeSlack;
let discord: FakeDiscord;
let concord: Concord;
let events: string;
let kadri: { id: string };
let ops: { id: string };
let bob: { id: string };

beforeEach(async () => {
  slack = await startFakeSlack({ rateLimits: false });
  discord = await startFakeDiscord();
  concord = await startConcord({
    ...slack.concordEnv(),
    ...discord.concordEnv(),
  });
  events = `${concord.url}/slack/events`;
  kadri = slack.addUser({ name: 'kadri' });
  ops = slack.addChannel({ name: 'ops', members: [slack.botUserId, kadri.id] });
  bob = discord.addMember('bob-acme');
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
    discord: bob.id,
  });
  await makeContact(concord.db, { orgId: acme.id, personId: liaison.id });
});

afterEach(async () => {
  await concord.close();
  await slack.close();
  await discord.close();
  expect(slackContractViolations(slack.calls)).toEqual([]);
  expect(discordContractViolations(discord.calls)).toEqual([]);
  expect(slack.ackTimeouts).toEqual([]);
  expect(slack.responseViolations).toEqual([]);
});

const discordText = (message: unknown) => JSON.stringify(message);
const twinMessages = (channelId: string) =>
  [...discord.state.messages.values()].filter((m) => m.channel_id === channelId);

async function openIncident() {
  await slack.sendCommand(events, {
    command: '/incident',
    text: 'open Ransomware at the port severity:high orgs:ACME',
    user_id: kadri.id,
    channel_id: ops.id,
  });
  await vi.waitFor(() => expect(slack.responses).toHaveLength(1), { timeout: 10_000 });
  const main = slack.channelByName('inc-2026-1-ransomware-at-the-port');
  const twin = [...discord.state.channels.values()].find(
    (c) => c.name === 'inc-2026-1-ransomware-at-the-port',
  );
  if (!main || !twin) throw new Error('the incident has no channel on one platform');
  return { main, twin };
}

describe('an incident across Slack and Discord', () => {
  it('opens a private Slack channel and a Discord twin only its members can see, each with the pinned card', async () => {
    const { main, twin } = await openIncident();
    expect(main.is_private).toBe(true);
    expect([...main.members].sort()).toEqual([slack.botUserId, kadri.id].sort());
    const everyone = twin.permission_overwrites.find((o) => o.id === discord.guildId);
    const member = twin.permission_overwrites.find((o) => o.id === bob.id);
    expect(BigInt(everyone?.deny ?? 0) & 1024n).toBe(1024n); // VIEW_CHANNEL denied to @everyone
    expect(BigInt(member?.allow ?? 0) & 1024n).toBe(1024n); // and allowed to the liaison
    const [card] = twinMessages(twin.id);
    expect(discordText(card)).toContain('INC-2026-1 · Ransomware at the port');
    expect(discord.state.pins.get(twin.id)).toEqual([card?.id]);
    const reply = String(slack.responses[0]?.body.text);
    expect(reply).toContain(`https://discord.com/channels/${discord.guildId}/${twin.id} (twin)`);
  });

  it('relays messages both ways with author, organisation and TLP, follows threads and edits, and never echoes', async () => {
    const { main, twin } = await openIncident();
    const before = twinMessages(twin.id).length;
    const posted = slack.userPosts(main.id, kadri.id, 'Hosts isolated');
    await slack.sendEvent(events, posted);
    await vi.waitFor(() => expect(twinMessages(twin.id)).toHaveLength(before + 1), {
      timeout: 10_000,
    });
    const copy = twinMessages(twin.id).at(-1);
    expect(discordText(copy)).toContain('TLP:AMBER');
    expect(discordText(copy)).toContain('Kadri Tamm (EST)');
    expect(discordText(copy)).toContain('Hosts isolated');

    discord.sendMessage({
      channel: twin.id,
      user: bob.id,
      content: 'Which hosts?',
      threadOf: copy?.id,
    });
    await vi.waitFor(
      () =>
        expect(slack.messagesIn(main.id).some((m) => m.text.includes('Which hosts?'))).toBe(true),
      { timeout: 10_000 },
    );
    const answer = slack.messagesIn(main.id).find((m) => m.text.includes('Which hosts?'));
    expect(answer?.thread_ts).toBe(posted.ts);
    expect(answer?.text).toContain('Bob Stone (ACME)');
    // Slack tells the app about its own post too; the adapter drops it.
    await slack.sendEvent(events, {
      type: 'message',
      channel: main.id,
      user: slack.botUserId,
      bot_id: slack.state.bot.botId,
      text: answer?.text,
      ts: answer?.ts,
      thread_ts: answer?.thread_ts,
    });

    await slack.sendEvent(
      events,
      slack.userEdits(main.id, String(posted.ts), 'Hosts isolated: 12 of them'),
    );
    await vi.waitFor(
      () =>
        expect(discordText(discord.state.messages.get(copy?.id as string))).toContain('12 of them'),
      { timeout: 10_000 },
    );

    // Nothing the bot posted came back as a new message: one copy each way.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      twinMessages(twin.id).filter((m) => discordText(m).includes('Hosts isolated')),
    ).toHaveLength(1);
    expect(slack.messagesIn(main.id).filter((m) => m.text.includes('Which hosts?'))).toHaveLength(
      1,
    );
  });

  it('runs a Discord command in the twin, and close archives both channels after the report', async () => {
    const { main, twin } = await openIncident();
    const update = await discord.sendCommand({
      name: 'incident',
      subcommand: 'update',
      options: { text: 'Backups verified' },
      user: bob.id,
      channel: twin.id,
    });
    expect(update.timedOut).toBe(false);
    await vi.waitFor(
      () =>
        expect(slack.messagesIn(main.id).some((m) => m.text.includes('Backups verified'))).toBe(
          true,
        ),
      { timeout: 10_000 },
    );
    const close = await discord.sendCommand({
      name: 'incident',
      subcommand: 'close',
      options: { summary: 'Restored' },
      user: bob.id,
      channel: twin.id,
    });
    expect(close.firstCallbackMs).toBeLessThan(3000);
    await vi.waitFor(() => expect(main.archived).toBe(true), { timeout: 10_000 });
    await vi.waitFor(() => expect(twin.topic ?? '').toMatch(/Archived/), { timeout: 10_000 });
    const everyone = twin.permission_overwrites.find((o) => o.id === discord.guildId);
    expect(BigInt(everyone?.deny ?? 0) & 2048n).toBe(2048n); // SEND_MESSAGES denied
    expect(slack.messagesIn(main.id).at(-1)?.text).toContain('INC-2026-1 timeline report');
    expect(discordText(twinMessages(twin.id).at(-1))).toContain('timeline report');
  });

  it('turns an interaction delivered twice into one incident, one card, one audit row', async () => {
    const general = discord.channel('general');
    const first = await discord.sendCommand({
      name: 'incident',
      subcommand: 'open',
      options: { title: 'Defacement' },
      user: bob.id,
      channel: general.id,
    });
    await discord.redeliver(first.interactionId);
    await vi.waitFor(
      () => expect(discord.calls.filter((c) => c.route?.includes('/pins/'))).toHaveLength(1),
      { timeout: 10_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [opened] = await concord.db.select({ n: count() }).from(incidents);
    const [audits] = await concord.db
      .select({ n: count() })
      .from(auditLog)
      .where(eq(auditLog.action, 'incident.open'));
    expect(opened?.n).toBe(1);
    expect(audits?.n).toBe(1);
    const channels = [...discord.state.channels.values()].filter((c) =>
      c.name?.startsWith('inc-2026-1'),
    );
    expect(channels).toHaveLength(1);
  });
});
