import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discordChannel, discordMessage, discordUser } from '../../adapters/discord/refs.js';
import { ChatFailure, isChatFailure } from '../../src/chat/errors.js';
import type { ChannelRef } from '../../src/chat/refs.js';
import { discordContractViolations, messagesIn, overwriteNames } from '../fakes/discord/index.js';
import { type Harness, startHarness } from './discord-harness.js';

// Every ChatPort method through discord.js's REST client to the fake, read back from the fake's
// recorded calls and state.

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ restTimeoutMs: 400 });
});
afterEach(async () => {
  const violations = discordContractViolations(h.fake.calls);
  await h.close();
  expect(violations).toEqual([]);
});

const routes = () => h.fake.calls.map((c) => `${c.route} ${c.status}`);
const idOf = (ref: string) => ref.slice(ref.indexOf(':') + 1);
const general = () => discordChannel(h.fake.channel('general').id);

async function failure(promise: Promise<unknown>): Promise<ChatFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ChatFailure))
    throw new Error(`expected a ChatFailure, got ${String(error)}`);
  return error;
}

describe('channels', () => {
  it('creates a public channel with a name fitted to Discord', async () => {
    const ref = await h.adapter.chat.createChannel({
      name: 'Inc-2026-14 Ransomware at Pärnu Port!',
      private: false,
      topic: 'Ransomware at the port',
    });
    const channel = h.fake.state.channels.get(idOf(ref));
    expect(channel).toMatchObject({ name: 'inc-2026-14-ransomware-at-parnu-port', type: 0 });
    expect(channel?.topic).toBe('Ransomware at the port');
    expect(channel?.permission_overwrites).toEqual([]);
    expect(h.adapter.chat.channelLink(ref)).toBe(
      `https://discord.com/channels/${h.fake.guildId}/${idOf(ref)}`,
    );
    expect(await h.adapter.chat.findChannel('Inc-2026-14 Ransomware at Pärnu Port!')).toBe(ref);
    expect(await h.adapter.chat.findChannel('inc-2026-99-nothing')).toBeNull();
  });

  it('hides a private channel from @everyone and lets the bot in', async () => {
    const ref = await h.adapter.chat.createChannel({ name: 'inc-2026-15-red', private: true });
    const channel = h.fake.state.channels.get(idOf(ref));
    expect(overwriteNames(channel, h.fake.guildId)).toEqual({ allow: [], deny: ['VIEW_CHANNEL'] });
    expect(overwriteNames(channel, h.fake.botUserId)?.allow).toEqual(
      expect.arrayContaining(['VIEW_CHANNEL', 'SEND_MESSAGES', 'READ_MESSAGE_HISTORY']),
    );
  });

  it('refuses a name the guild already has, without creating anything', async () => {
    const error = await failure(h.adapter.chat.createChannel({ name: 'General', private: false }));
    expect(error.kind).toBe('name_taken');
    expect(routes()).not.toContain('POST /guilds/{guild_id}/channels 201');
  });

  it('invites with a member overwrite each, and inviting again changes nothing', async () => {
    const ref = await h.adapter.chat.createChannel({ name: 'inc-2026-16', private: true });
    const alice = h.fake.user('alice');
    const bob = h.fake.user('bob');
    await h.adapter.chat.invite(ref, [discordUser(alice.id), discordUser(bob.id)]);
    await h.adapter.chat.invite(ref, [discordUser(alice.id)]);
    const channel = h.fake.state.channels.get(idOf(ref));
    for (const user of [alice, bob]) {
      expect(overwriteNames(channel, user.id)).toEqual({
        allow: ['VIEW_CHANNEL', 'SEND_MESSAGES', 'READ_MESSAGE_HISTORY'],
        deny: [],
      });
    }
    expect(channel?.permission_overwrites.filter((o) => o.id === alice.id)).toHaveLength(1);
  });

  it('archives by locking: nobody but the bot writes, everyone invited still reads', async () => {
    const ref = await h.adapter.chat.createChannel({
      name: 'inc-2026-17',
      private: false,
      topic: 'x',
    });
    const alice = h.fake.user('alice');
    await h.adapter.chat.invite(ref, [discordUser(alice.id)]);
    await h.adapter.chat.archive(ref);
    const channel = h.fake.state.channels.get(idOf(ref));
    expect(overwriteNames(channel, h.fake.guildId)?.deny).toEqual(
      expect.arrayContaining([
        'SEND_MESSAGES',
        'SEND_MESSAGES_IN_THREADS',
        'CREATE_PUBLIC_THREADS',
      ]),
    );
    expect(overwriteNames(channel, h.fake.guildId)?.deny).not.toContain('VIEW_CHANNEL');
    expect(overwriteNames(channel, alice.id)?.allow).toEqual([
      'VIEW_CHANNEL',
      'READ_MESSAGE_HISTORY',
    ]);
    expect(overwriteNames(channel, alice.id)?.deny).toContain('SEND_MESSAGES');
    expect(overwriteNames(channel, h.fake.botUserId)?.allow).toContain('SEND_MESSAGES');
    expect(channel?.topic).toBe('[Archived: read-only] x');
    expect(channel?.name).toBe('inc-2026-17');
    // The bot can still post the closing report.
    await h.adapter.chat.post(ref, { title: 'Timeline' });
  });
});

describe('messages', () => {
  it('posts, makes a thread on the first threaded post only, updates and pins', async () => {
    const card = await h.adapter.chat.post(general(), {
      tlp: 'green',
      title: 'Request AR-2026-7',
      buttons: [{ action: 'assist.accept', value: 'AR-2026-7', label: 'Accept' }],
    });
    const [channelId, cardId] = idOf(card).split('/');
    const first = await h.adapter.chat.post(general(), { body: 'first reply' }, { thread: card });
    const second = await h.adapter.chat.post(general(), { body: 'second reply' }, { thread: card });
    expect(first.startsWith(`discord:${cardId}/`)).toBe(true);
    expect(second.startsWith(`discord:${cardId}/`)).toBe(true);
    const threads = h.fake.calls.filter(
      (c) => c.route === 'POST /channels/{channel_id}/messages/{message_id}/threads',
    );
    expect(threads).toHaveLength(1);
    expect(h.fake.state.channels.get(cardId ?? '')).toMatchObject({
      type: 11,
      parent_id: channelId,
      name: 'Request AR-2026-7',
    });
    expect(messagesIn(h.fake.state, cardId ?? '').map((m) => m.embeds)).toMatchObject([
      [{ description: 'first reply' }],
      [{ description: 'second reply' }],
    ]);

    await h.adapter.chat.update(card, { tlp: 'green', title: 'Request AR-2026-7: accepted' });
    const updated = h.fake.state.messages.get(cardId ?? '');
    expect(updated?.embeds).toMatchObject([{ title: 'Request AR-2026-7: accepted' }]);
    expect(updated?.components).toEqual([]);
    expect(updated?.content).toBe('**TLP:GREEN**');

    await h.adapter.chat.pin?.(card);
    expect(h.fake.state.pins.get(channelId ?? '')).toEqual([cardId]);
  });

  it('sends direct messages in one DM channel; their "threads" are replies', async () => {
    const bob = discordUser(h.fake.user('bob').id);
    const dm = await h.adapter.chat.sendDirect(bob, { title: 'Early warning EW-1' });
    await h.adapter.chat.postEphemeral(general(), bob, { body: 'Only for you' });
    const reply = await h.adapter.chat.post(general(), { body: 'follow-up' }, { thread: dm });
    const [dmId, warningId] = idOf(dm).split('/');
    expect(h.fake.state.channels.get(dmId ?? '')?.type).toBe(1);
    expect(h.fake.calls.filter((c) => c.route === 'POST /users/@me/channels')).toHaveLength(1);
    const [warning, ephemeral, threaded] = messagesIn(h.fake.state, dmId ?? '');
    expect(warning?.embeds).toMatchObject([{ title: 'Early warning EW-1' }]);
    expect(ephemeral?.content).toContain(`<#${idOf(general())}>`);
    expect(threaded?.message_reference?.message_id).toBe(warningId);
    expect(reply.startsWith(`discord:${dmId}/`)).toBe(true);
  });
});

describe('posts under an idempotency key (nonce)', () => {
  const posts = () =>
    h.fake.calls.filter((c) => c.route === 'POST /channels/{channel_id}/messages');

  it('makes one message for a post repeated under one key: channel, thread and DM', async () => {
    const chat = h.adapter.chat;
    const card = await chat.post(general(), { title: 'EW-1' }, { key: 'EW-1/discord:general' });
    expect(await chat.post(general(), { title: 'EW-1' }, { key: 'EW-1/discord:general' })).toBe(
      card,
    );
    const other = await chat.post(general(), { title: 'EW-1' }, { key: 'EW-1/discord:other' });
    const unkeyed = await chat.post(general(), { title: 'EW-1' });
    expect(new Set([card, other, unkeyed]).size).toBe(3);
    expect(messagesIn(h.fake.state, idOf(general()))).toHaveLength(3);

    const reply = await chat.post(general(), { body: 'a' }, { thread: card, key: 'EW-1/a' });
    expect(await chat.post(general(), { body: 'a' }, { thread: card, key: 'EW-1/a' })).toBe(reply);
    expect(messagesIn(h.fake.state, idOf(card).split('/')[1] ?? '')).toHaveLength(1);

    const bob = discordUser(h.fake.user('bob').id);
    const dm = await chat.sendDirect(bob, { title: 'EW-1' }, { key: 'EW-1/discord:bob' });
    expect(await chat.sendDirect(bob, { title: 'EW-1' }, { key: 'EW-1/discord:bob' })).toBe(dm);
    expect(messagesIn(h.fake.state, idOf(dm).split('/')[0] ?? '')).toHaveLength(1);

    const keyed = posts().filter((c) => (c.body as { nonce?: string }).nonce !== undefined);
    expect(keyed).toHaveLength(7);
    for (const call of keyed) {
      expect(call.body).toMatchObject({ nonce: expect.any(String), enforce_nonce: true });
      expect((call.body as { nonce: string }).nonce.length).toBeLessThanOrEqual(25);
    }
    expect(h.fake.state.messages.get(idOf(card).split('/')[1] ?? '')?.nonce).toBe(
      (keyed[0]?.body as { nonce?: string } | undefined)?.nonce,
    );
  });

  it('does not post again a message whose answer timed out after Discord made it', async () => {
    h.fake.latencyMs = 600;
    const slow = h.adapter.chat.post(general(), { body: 'slow' }, { key: 'EW-2/general' });
    expect((await failure(slow)).kind).toBe('unavailable');
    h.fake.latencyMs = 0;
    // discord.js retried the timed-out request; the next attempt of the delivery posts again.
    const again = await h.adapter.chat.post(general(), { body: 'slow' }, { key: 'EW-2/general' });
    // Requests still held by the fake's latency land too.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(posts().length).toBeGreaterThanOrEqual(3);
    const made = messagesIn(h.fake.state, idOf(general()));
    expect(made).toHaveLength(1);
    expect(again).toBe(discordMessage(idOf(general()), made[0]?.id ?? ''));
  });
});

describe('failures', () => {
  it('turns 50013 into missing_permission naming what to grant', async () => {
    h.fake.failNext('POST /guilds/{guild_id}/channels', {
      status: 403,
      code: 50013,
      message: 'Missing Permissions',
    });
    const error = await failure(h.adapter.chat.createChannel({ name: 'inc-x', private: false }));
    expect(error.kind).toBe('missing_permission');
    expect(error.detail).toBe('50013');
    expect(error.needed).toMatch(/Manage Channels/);
  });

  it('turns unknown channels into not_found and other refusals into rejected', async () => {
    h.fake.failNext('POST /channels/{channel_id}/messages', { status: 404, code: 10003 });
    expect((await failure(h.adapter.chat.post(general(), { body: 'x' }))).kind).toBe('not_found');
    h.fake.failNext('POST /channels/{channel_id}/messages', { status: 400, code: 50035 });
    expect((await failure(h.adapter.chat.post(general(), { body: 'x' }))).kind).toBe('rejected');
    const gone = discordMessage(idOf(general()), '1234567890123456789');
    expect(
      isChatFailure(await failure(h.adapter.chat.pin?.(gone) ?? Promise.resolve()), 'not_found'),
    ).toBe(true);
  });

  it('retries a 5xx and succeeds; keeps failing 5xx and timeouts become unavailable', async () => {
    h.fake.failNext('POST /channels/{channel_id}/messages', { status: 502 });
    await h.adapter.chat.post(general(), { body: 'after one 502' });
    expect(routes().filter((r) => r.startsWith('POST /channels/{channel_id}/messages'))).toEqual([
      'POST /channels/{channel_id}/messages 502',
      'POST /channels/{channel_id}/messages 200',
    ]);
    h.fake.failNext('POST /channels/{channel_id}/messages', { status: 500, times: 3 });
    expect((await failure(h.adapter.chat.post(general(), { body: 'x' }))).kind).toBe('unavailable');
    h.fake.latencyMs = 600;
    expect((await failure(h.adapter.chat.post(general(), { body: 'slow' }))).kind).toBe(
      'unavailable',
    );
    h.fake.latencyMs = 0;
  });

  it('a channel in 429 does not hold up a post to another channel', async () => {
    const other: ChannelRef = discordChannel(h.fake.addChannel('other').id);
    h.fake.rateLimitChannel(idOf(general()), 1);
    const started = Date.now();
    const limited = h.adapter.chat
      .post(general(), { body: 'waits' })
      .then(() => Date.now() - started);
    const free = h.adapter.chat.post(other, { body: 'goes' }).then(() => Date.now() - started);
    const [limitedMs, freeMs] = await Promise.all([limited, free]);
    expect(freeMs).toBeLessThan(500);
    expect(limitedMs).toBeGreaterThanOrEqual(950);
    expect(routes()).toContain('POST /channels/{channel_id}/messages 429');
    expect(messagesIn(h.fake.state, idOf(general())).map((m) => m.embeds)).toMatchObject([
      [{ description: 'waits' }],
    ]);
  });
});
