import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  assistRequests,
  deliveries,
  orgInboxes,
  routings,
  scheduledItems,
} from '../../src/db/schema/index.js';
import { jobIdOf } from '../../src/jobs/items.js';
import {
  type FakeMessage as DiscordMessage,
  discordContractViolations,
  type FakeDiscord,
  PERMISSION_BITS,
  startFakeDiscord,
} from '../fakes/discord/index.js';
import {
  type FakeSlack,
  type FakeMessage as SlackMessage,
  slackContractViolations,
  slackEnvelopeViolations,
  startFakeSlack,
} from '../fakes/slack/index.js';
import { type Concord, startConcord } from '../support/concord-harness.js';
import { makeContact, makeOrganisation, makePerson } from '../support/factories.js';

// Requests for assistance and early warnings through the real Bolt and discord.js clients and
// the fake platforms, Slack's rate limits on: a Slack delegate asks; liaisons answer from a
// private Discord inbox, Discord DMs and Slack DMs; what is said in the threads crosses over.

/**
 * The directory: name, organisation, platform, and capability (the first holder of a capability
 * in an organisation is its primary, the next its backup). Kadri, the EST delegate, asks.
 */
const PEOPLE = {
  kadri: ['Kadri Tamm', 'EST', 'slack', null],
  bob: ['Bob Stone', 'ACME', 'discord', 'forensics'],
  carol: ['Carol Diaz', 'ACME', 'slack', 'forensics'],
  anna: ['Anna Berg', 'DEU', 'slack', 'forensics'],
  eve: ['Eve Weber', 'DEU', 'slack', 'early-warning'],
  finn: ['Finn Roux', 'FRA', 'discord', 'early-warning'],
} as const;
type Who = keyof typeof PEOPLE;

/** Each person's platform id; `ops`: Kadri's Slack channel; `inbox`: ACME's Discord inbox. */
type World = Record<Who | 'events' | 'ops' | 'inbox', string> & {
  slack: FakeSlack;
  discord: FakeDiscord;
  concord: Concord;
};

let w: World;
/** What the running test started, closed in reverse order; the fakes are checked once closed. */
let closers: (() => Promise<void>)[] = [];

async function startWorld(): Promise<World> {
  const slack = await startFakeSlack();
  closers.push(async () => {
    await slack.close();
    expect(slackContractViolations(slack.calls)).toEqual([]);
    expect(slackEnvelopeViolations(slack.envelopes)).toEqual([]);
    expect(slack.ackTimeouts).toEqual([]);
    expect(slack.responseViolations).toEqual([]);
  });
  const discord = await startFakeDiscord();
  closers.push(async () => {
    await discord.close();
    expect(discordContractViolations(discord.calls)).toEqual([]);
    const late = [...discord.interactions.all.values()].filter((i) => i.timedOut);
    expect(late.map((i) => i.payload.data)).toEqual([]);
  });
  const concord = await startConcord({
    ...slack.concordEnv(),
    ...discord.concordEnv(),
  });
  closers.push(async () => {
    // Nothing left unsent or failed; waiting also lets in-flight posts land before shutdown.
    await settled(concord);
    await concord.close();
  });
  const orgs = new Map<string, number>();
  for (const code of ['EST', 'ACME', 'DEU', 'FRA']) {
    const kind = code === 'ACME' ? 'industry' : 'delegation';
    orgs.set(code, (await makeOrganisation(concord.db, { code, kind })).id);
  }
  const ids = {} as Record<Who, string>;
  const held: string[] = [];
  for (const [handle, [name, org, on, capability]] of Object.entries(PEOPLE)) {
    const id = on === 'slack' ? slack.addUser({ name: handle }).id : discord.addMember(handle).id;
    ids[handle as Who] = id;
    const orgId = orgs.get(org) as number;
    const role = capability ? 'liaison' : 'delegate';
    const person = await makePerson(concord.db, { handle, name, orgId, role, [on]: id });
    if (!capability) continue;
    const rank = held.filter((h) => h === `${org}/${capability}`).length;
    held.push(`${org}/${capability}`);
    await makeContact(concord.db, { orgId, personId: person.id, capability, rank });
  }
  const ops = slack.addChannel({ name: 'ops', members: [slack.botUserId, ids.kadri] }).id;
  // ACME's inbox: a Discord channel hidden from @everyone, made the inbox by Bob from inside it.
  const inbox = discord.addChannel('acme-inbox');
  inbox.permission_overwrites = [
    { id: discord.guildId, type: 0, allow: '0', deny: VIEW },
    { id: ids.bob, type: 1, allow: VIEW, deny: '0' },
  ];
  const events = `${concord.url}/slack/events`;
  w = { slack, discord, concord, events, ops, inbox: inbox.id, ...ids };
  await setInbox(inbox.id, true);
  return w;
}

const VIEW = String(PERMISSION_BITS.VIEW_CHANNEL);

/**
 * Resolves once every delivery is sent. People press and reply only after this: a card seen in
 * the fake a millisecond ago may not have its message reference recorded yet.
 */
async function settled(concord = w.concord) {
  await vi.waitFor(async () => {
    const unsent = (await concord.db.select().from(deliveries)).filter((r) => r.status !== 'sent');
    expect(unsent.map((r) => [r.key, r.status, r.lastError])).toEqual([]);
  }, 10_000);
}

/** Bob runs `/org inbox org:ACME` in a Discord channel; resolves once it is recorded. */
async function setInbox(channel: string, expectPrivate: boolean) {
  const ack = await w.discord.sendCommand({
    name: 'org',
    subcommand: 'inbox',
    options: { org: 'ACME' },
    user: w.bob,
    channel,
  });
  expect(ack.timedOut).toBe(false);
  await vi.waitFor(async () => {
    const [row] = await w.concord.db.select().from(orgInboxes);
    expect([row?.channel, row?.private]).toEqual([`discord:${channel}`, expectPrivate]);
  });
}

beforeEach(async () => {
  w = await startWorld();
});

afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

const unescapeSlack = (text: string) =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function waitUntil<T>(find: () => T | undefined, what: string): Promise<T> {
  return vi.waitFor(() => find() ?? Promise.reject(new Error(`still waiting for ${what}`)), {
    timeout: 10_000,
    interval: 50,
  });
}

/** The answer Concord posted to a command's or button press's response_url. */
async function answerTo(sent: { timedOut: boolean; triggerId: string }) {
  expect(sent.timedOut).toBe(false);
  const answer = await waitUntil(
    () => w.slack.responses.find((r) => r.triggerId === sent.triggerId),
    'an answer on the response_url',
  );
  return unescapeSlack(String(answer.body.text));
}

/** Someone (Kadri by default) runs a slash command on Slack; resolves with its answer's text. */
async function slash(command: string, text: string, user = w.kadri) {
  return answerTo(
    await w.slack.sendCommand(w.events, { command, text, user_id: user, channel_id: w.ops }),
  );
}

// Slack: a person's DM with the bot, its cards (top-level messages) and their thread replies.
const dmOf = (user: string) => w.slack.dmWith(user);
const slackThread = (user: string, ts: string) =>
  w.slack.repliesTo(dmOf(user), ts).map((m) => unescapeSlack(m.text));
const slackText = (m: SlackMessage) => unescapeSlack(m.text);
const slackCard = (user: string, needle: string) =>
  waitUntil(
    () =>
      w.slack
        .messagesIn(dmOf(user))
        .find((m) => m.text.includes(needle) && (m.thread_ts ?? m.ts) === m.ts),
    `a Slack card with ${needle}`,
  );
const buttonsOf = (m: SlackMessage) =>
  (m.blocks ?? []).flatMap(
    (b) => (b as { elements?: { action_id?: string; value?: string }[] }).elements ?? [],
  );

/** Presses a button on a card in the person's Slack DM; resolves with the private answer. */
async function slackPress(user: string, card: SlackMessage, action: string) {
  const value = buttonsOf(card).find((b) => b.action_id === action)?.value;
  if (value === undefined) throw new Error(`no ${action} button on the card`);
  const sent = await w.slack.sendAction(w.events, {
    user_id: user,
    channel_id: dmOf(user),
    message_ts: card.ts,
    actions: [{ action_id: action, value }],
  });
  return answerTo(sent);
}

async function slackReply(user: string, threadTs: string, text: string) {
  await w.slack.sendEvent(w.events, w.slack.userPosts(dmOf(user), user, text, { threadTs }));
}

// Discord: what a message shows (content and embeds), a channel's messages, a person's DM.
const shown = (m: DiscordMessage | undefined) => JSON.stringify([m?.content, m?.embeds]);
const discordCard = (channel: () => string, needle: string) =>
  waitUntil(
    () => w.discord.messagesIn(channel()).find((m) => shown(m).includes(needle)),
    `a Discord message with ${needle}`,
  );
const patchesOf = (m: DiscordMessage) =>
  w.discord.calls.filter(
    (c) => c.method === 'PATCH' && c.path.endsWith(`/channels/${m.channel_id}/messages/${m.id}`),
  ).length;

/** Presses a button on a Discord card; resolves with the ephemeral follow-up. */
async function discordPress(user: string, card: DiscordMessage, action: string) {
  const customId = card.components
    .flatMap((row) => (row as { components: { custom_id?: string }[] }).components)
    .find((b) => b.custom_id?.startsWith(`${action}|`))?.custom_id;
  if (!customId) throw new Error(`no ${action} button on the card`);
  const ack = await w.discord.sendButton({ message: card.id, customId, user });
  expect(ack.timedOut).toBe(false);
  const interaction = w.discord.interactions.all.get(ack.interactionId);
  return JSON.stringify(
    await waitUntil(() => interaction?.followUps[0], `the answer to ${action}`),
  );
}

const updatesOf = (m: SlackMessage) =>
  w.slack.callsTo('chat.update').filter((c) => c.params.ts === m.ts).length;
const labelled = (who: string, text: string) => (t: string) =>
  t.includes(`💬 ${who} · AR-2026-1`) && t.includes(text);

/**
 * Fires a pending scheduled item as if its time had come: its due time goes to the past and its
 * queued job is promoted (or queued, when it was beyond the horizon); the real worker runs it.
 */
async function fire(subject: string) {
  const [item] = await w.concord.db
    .update(scheduledItems)
    .set({ dueAt: new Date(Date.now() - 1000) })
    .where(and(eq(scheduledItems.subject, subject), eq(scheduledItems.status, 'pending')))
    .returning();
  if (!item) throw new Error(`nothing pending for ${subject}`);
  const job = await w.concord.jobs.scheduler.queue.getJob(jobIdOf(item));
  if (job) await job.promote();
  else await w.concord.jobs.scheduler.enqueue([item]);
  return item;
}

describe('/assist across Slack and Discord', () => {
  it('reaches a Discord inbox and a Slack DM; accepts, answers and replies cross over; cards change in place', async () => {
    const answer = await slash(
      '/assist',
      'request Memory image of a domain controller capability:forensics to:ACME,DEU',
    );
    expect(answer).toContain('✓ AR-2026-1 sent to 2 organisations');
    expect(answer).toContain('Sent to: ACME (inbox), DEU (Anna Berg, direct message)');
    const acmeCard = await discordCard(() => w.inbox, 'AR-2026-1');
    const annaCard = await slackCard(w.anna, 'AR-2026-1 · request for assistance');
    const tracking = await slackCard(w.kadri, 'AR-2026-1 · your request for assistance');
    expect(acmeCard.content).toBe('**TLP:AMBER**');
    expect(shown(acmeCard)).toContain('"name":"From","value":"Kadri Tamm (EST)"');
    expect(annaCard.text).toContain('[Accept] [Decline]');
    await settled();

    expect(await discordPress(w.bob, acmeCard, 'assist.accept')).toContain(
      'AR-2026-1: ACME accepted',
    );
    expect(await slackPress(w.anna, annaCard, 'assist.accept')).toContain(
      'AR-2026-1: DEU accepted',
    );
    await vi.waitFor(() => {
      expect(shown(acmeCard)).toContain('accepted by Bob Stone');
      expect(slackText(annaCard)).toContain('accepted by Anna Berg');
      expect(slackText(tracking)).toContain(
        'ACME: accepted by Bob Stone\nDEU: accepted by Anna Berg',
      );
    });
    expect([acmeCard.components, buttonsOf(annaCard)]).toEqual([[], []]);
    expect(patchesOf(acmeCard)).toBe(1);
    expect(updatesOf(annaCard)).toBe(1);

    // Each liaison answers in their card's thread; both answers reach Kadri's thread, labelled.
    w.discord.sendMessage({
      channel: w.inbox,
      user: w.bob,
      content: 'We can take the image tonight',
      threadOf: acmeCard.id,
    });
    await slackReply(w.anna, annaCard.ts, 'DEU can run Volatility on it');
    await vi.waitFor(() => {
      const thread = slackThread(w.kadri, tracking.ts);
      expect(thread.filter(labelled('Bob Stone (ACME)', 'image tonight'))).toHaveLength(1);
      expect(thread.filter(labelled('Anna Berg (DEU)', 'Volatility'))).toHaveLength(1);
    }, 10_000);

    // Kadri's reply in that thread reaches both liaison threads.
    await slackReply(w.kadri, tracking.ts, 'Thanks, uploading now');
    await vi.waitFor(() => {
      const inDiscord = w.discord.messagesIn(acmeCard.id).map(shown);
      expect(inDiscord.filter(labelled('Kadri Tamm (EST)', 'uploading now'))).toHaveLength(1);
      const inSlack = slackThread(w.anna, annaCard.ts);
      expect(inSlack.filter(labelled('Kadri Tamm (EST)', 'uploading now'))).toHaveLength(1);
    }, 10_000);

    expect(await slash('/assist', 'close AR-2026-1')).toContain('AR-2026-1 closed');
    await vi.waitFor(() => {
      expect(shown(acmeCard)).toContain('closed (resolved)');
      expect(slackText(annaCard)).toContain('closed (resolved)');
      expect(slackText(tracking)).toContain('Closed: resolved');
      const closedBy = 'AR-2026-1 closed by Kadri Tamm: resolved';
      expect(w.discord.messagesIn(acmeCard.id).map(shown).join()).toContain(closedBy);
      expect(slackThread(w.anna, annaCard.ts).join()).toContain(closedBy);
    }, 10_000);
    expect(patchesOf(acmeCard)).toBe(2);
    expect(updatesOf(annaCard)).toBe(2);
    expect(buttonsOf(tracking)).toEqual([]);
  });

  it('escalates to the backup on their own platform when the primary does not accept in time', async () => {
    await slash('/assist', 'request Malware triage capability:forensics to:ACME urgency:critical');
    const acmeCard = await discordCard(() => w.inbox, 'AR-2026-1');
    const tracking = await slackCard(w.kadri, 'AR-2026-1 · your request for assistance');

    const before = await fire('AR-2026-1/ACME');
    const carolCard = await slackCard(w.carol, 'AR-2026-1 · request for assistance');
    expect(carolCard.text).toContain('[Accept] [Decline]');
    await settled();
    await vi.waitFor(() => {
      expect(slackThread(w.kadri, tracking.ts).join()).toContain(
        "⏫ AR-2026-1: ACME's Bob Stone (primary) did not answer within 15m; now asking Carol Diaz (backup 1)",
      );
      expect(w.discord.messagesIn(acmeCard.id).map(shown).join()).toContain(
        '⏫ Not answered within 15m: now asking Carol Diaz (backup 1) directly',
      );
    });
    const item = () =>
      w.concord.db.select().from(scheduledItems).where(eq(scheduledItems.id, before.id));
    const [again] = await item();
    expect([again?.status, again?.generation]).toEqual(['pending', before.generation + 1]);
    expect((again?.dueAt.getTime() ?? 0) - Date.now()).toBeGreaterThan(14 * 60_000);

    // The backup accepts from Slack: escalation stops; the inbox card shows who accepted.
    expect(await slackPress(w.carol, carolCard, 'assist.accept')).toContain('ACME accepted');
    await vi.waitFor(() => {
      expect(shown(acmeCard)).toContain('accepted by Carol Diaz');
      expect(slackText(carolCard)).toContain('accepted by Carol Diaz');
    });
    expect((await item())[0]?.status).toBe('cancelled');
  });
});

describe('the TLP table through the adapters', () => {
  it('AMBER skips an inbox that is not private for Bob’s Discord DM, where replies are Discord replies', async () => {
    const general = w.discord.channel('general').id;
    await setInbox(general, false);
    const answer = await slash('/assist', 'request Look at this capability:forensics to:ACME');
    expect(answer).toContain('Sent to: ACME (Bob Stone, direct message)');
    expect(answer).toContain("Note: ACME's inbox is not private: sent to Bob Stone directly");
    const bobCard = await discordCard(() => w.discord.dmWith(w.bob), 'AR-2026-1');
    expect(bobCard.content).toBe('**TLP:AMBER**');
    expect(w.discord.messagesIn(general).map(shown).join()).not.toContain('AR-2026-1');

    // A DM has no threads on Discord: Bob replies to the card, and Kadri's answer comes back
    // as the bot's reply to it.
    const tracking = await slackCard(w.kadri, 'AR-2026-1 · your request for assistance');
    const dm = bobCard.channel_id;
    await settled();
    w.discord.sendMessage({ channel: dm, user: w.bob, content: 'On it', replyTo: bobCard.id });
    await vi.waitFor(
      () =>
        expect(
          slackThread(w.kadri, tracking.ts).filter(labelled('Bob Stone (ACME)', 'On it')),
        ).toHaveLength(1),
      10_000,
    );
    await slackReply(w.kadri, tracking.ts, 'Image is in the usual place');
    const back = await discordCard(() => dm, 'usual place');
    expect(shown(back)).toContain('Kadri Tamm (EST)');
    expect(back.message_reference?.message_id).toBe(bobCard.id);
  });

  it('RED goes only by DM even with a private inbox; AMBER+STRICT to:all is refused in one line, writing nothing', async () => {
    const refused = await slash('/assist', 'request Look capability:forensics tlp:amber+strict');
    const [reason, usage, ...more] = refused.split('\n');
    expect(reason).toBe(
      '⚠ TLP:AMBER+STRICT requests go only to organisations named with to:<codes>, not to:all',
    );
    expect([usage?.startsWith('Usage: /assist request'), more]).toEqual([true, []]);
    expect(await w.concord.db.select().from(assistRequests)).toEqual([]);

    const answer = await slash('/assist', 'request Look capability:forensics tlp:red to:ACME,DEU');
    expect(answer).toContain('Sent to: ACME (Bob Stone, direct message), DEU (Anna Berg, direct');
    expect((await discordCard(() => w.discord.dmWith(w.bob), 'AR-2026-1')).content).toBe(
      '**TLP:RED**',
    );
    expect((await slackCard(w.anna, 'AR-2026-1')).text).toContain('TLP:RED');
    expect(w.discord.messagesIn(w.inbox).map(shown).join()).not.toContain('AR-2026-1');
  });

  it('refuses an answer button pressed by someone of another organisation, changing nothing', async () => {
    // Finn (FRA) is a guest in ACME's inbox.
    const guest = { id: w.finn, type: 1 as const, allow: VIEW, deny: '0' };
    w.discord.state.channels.get(w.inbox)?.permission_overwrites.push(guest);
    await slash('/assist', 'request Look capability:forensics to:ACME');
    const acmeCard = await discordCard(() => w.inbox, 'AR-2026-1');
    await settled();
    expect(await discordPress(w.finn, acmeCard, 'assist.accept')).toContain(
      "only ACME's people may answer AR-2026-1 for ACME",
    );
    const [routing] = await w.concord.db.select().from(routings);
    expect(routing?.status).toBe('waiting');
    expect(patchesOf(acmeCard)).toBe(0);
    expect(shown(acmeCard)).not.toContain('accepted');
  });
});

describe('/alert across Slack and Discord', () => {
  it('warns a Slack and a Discord contact; one acknowledges by button and /alert status shows it', async () => {
    const answer = await slash('/alert', 'Phishing wave against ministries severity:high');
    expect(answer).toContain('✓ EW-2026-1 sent to 2 organisations');
    expect(answer).toContain('Sent to: DEU (Eve Weber, direct message), FRA (Finn Roux, direct');
    const finnCard = await discordCard(() => w.discord.dmWith(w.finn), 'EW-2026-1');
    const eveCard = await slackCard(w.eve, 'EW-2026-1 · early warning (high)');
    expect(eveCard.text).toContain('[Acknowledge]');
    await settled();

    expect(await discordPress(w.finn, finnCard, 'alert.ack')).toContain(
      'EW-2026-1: FRA acknowledged',
    );
    await vi.waitFor(() => expect(shown(finnCard)).toContain('acknowledged by Finn Roux'));
    expect(finnCard.components).toEqual([]);
    const status = await slash('/alert', 'status EW-2026-1');
    expect(status).toContain('EW-2026-1: 1 acknowledged, 1 outstanding');
    expect(status).toMatch(
      /Acknowledged: FRA: acknowledged by Finn Roux at .+ UTC\nOutstanding: DEU: waiting/,
    );
    expect(buttonsOf(eveCard).map((b) => b.action_id)).toEqual(['alert.ack']);
  });
});
