import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSlack } from '../../adapters/slack/index.js';
import { keyBlockId } from '../../adapters/slack/render.js';
import { ChatFailure } from '../../src/chat/errors.js';
import { type ChannelRef, channelRef, messageRef, userRef } from '../../src/chat/refs.js';
import { createHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { startFakeSlack } from '../fakes/slack/index.js';
import { type SlackHarness, seat, startHarness } from './slack-harness.js';

// Concord toward Slack: the chat port over the real WebClient, against the fake's Web API.

let h: SlackHarness;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const chat = () => h.adapter.chat;
const params = (method: string) => h.fake.callsTo(method).map((c) => c.params);
const slackChannelOf = (id: string): ChannelRef => channelRef('slack', id);

describe('the chat port', () => {
  it('knows its bot from auth.test', () => {
    expect(h.adapter.botUserId).toBe(h.fake.botUserId);
    expect(chat().platform).toBe('slack');
    expect(h.fake.callsTo('auth.test')).toHaveLength(1);
  });

  it('creates channels with names fitted to Slack, private or not, with a topic', async () => {
    const ref = await chat().createChannel({ name: 'INC-2026-1 Über Ransomware!', private: false });
    const secret = await chat().createChannel({
      name: 'inc-2026-2-red',
      private: true,
      topic: 'TLP:RED',
    });
    expect(params('conversations.create')).toEqual([
      { name: 'inc-2026-1-uber-ransomware', is_private: 'false' },
      { name: 'inc-2026-2-red', is_private: 'true' },
    ]);
    const created = h.fake.channelByName('inc-2026-1-uber-ransomware');
    expect(ref).toBe(`slack:${created?.id}`);
    // The topic is set without holding up the caller: it lands shortly after.
    await vi.waitFor(() =>
      expect(h.fake.channelByName('inc-2026-2-red')).toMatchObject({
        is_private: true,
        topic: 'TLP:RED',
      }),
    );
    expect(secret).toMatch(/^slack:G/);
  });

  it('invites people, skipping the bot and those already in', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((name) => h.fake.addUser({ name }));
    if (!a || !b || !c) throw new Error('users');
    const channel = h.fake.addChannel({ name: 'ops', members: [h.fake.botUserId, a.id] });
    const users = [a, b, c].map((u) => userRef('slack', u.id));
    await chat().invite(slackChannelOf(channel.id), [...users, userRef('slack', h.fake.botUserId)]);
    expect(params('conversations.invite').map((p) => p.users)).toEqual([
      `${a.id},${b.id},${c.id}`,
      a.id,
      b.id,
      c.id,
    ]);
    expect(channel.members.sort()).toEqual([h.fake.botUserId, a.id, b.id, c.id].sort());
    await chat().invite(slackChannelOf(channel.id), [userRef('slack', b.id)]);
  });

  it('archives, and archiving twice is not an error', async () => {
    const channel = h.fake.addChannel({ name: 'done' });
    await chat().archive(slackChannelOf(channel.id));
    await chat().archive(slackChannelOf(channel.id));
    expect(channel.archived).toBe(true);
    expect(h.fake.callsTo('conversations.archive').map((c) => c.error)).toEqual([
      undefined,
      'already_archived',
    ]);
  });

  it('posts, replies in threads, updates, pins and shows ephemeral messages', async () => {
    const { user, channel } = seat(h.fake);
    const where = slackChannelOf(channel.id);
    const root = await chat().post(where, { tlp: 'green', title: 'Summary', body: 'a < b & c' });
    const reply = await chat().post(where, { body: 'reply' }, { thread: root });
    await chat().update(root, { tlp: 'green', title: 'Summary (closed)' });
    await chat().pin(root);
    await chat().pin(root);
    await chat().postEphemeral(where, userRef('slack', user.id), { body: 'only you' });

    const [rootMsg, replyMsg] = h.fake.messagesIn(channel.id);
    expect(root).toBe(messageRef('slack', `${channel.id}/${rootMsg?.ts}`));
    expect(reply).toBe(messageRef('slack', `${channel.id}/${replyMsg?.ts}`));
    expect(replyMsg?.thread_ts).toBe(rootMsg?.ts);
    expect(params('chat.postMessage')[0]).toMatchObject({
      channel: channel.id,
      text: 'TLP:GREEN Summary\na &lt; b &amp; c',
    });
    expect(params('chat.postMessage')[1]).toMatchObject({ thread_ts: rootMsg?.ts });
    expect(rootMsg?.text).toBe('TLP:GREEN Summary (closed)');
    expect(rootMsg?.blocks?.[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '`TLP:GREEN` *Summary (closed)*' },
    });
    expect(params('chat.update')).toEqual([
      expect.objectContaining({ channel: channel.id, ts: rootMsg?.ts }),
    ]);
    expect(h.fake.state.pins.get(channel.id)).toEqual([rootMsg?.ts]);
    expect(params('pins.add')[0]).toEqual({ channel: channel.id, timestamp: rootMsg?.ts });
    expect(h.fake.state.ephemerals).toEqual([
      expect.objectContaining({ channel: channel.id, user: user.id, text: 'only you' }),
    ]);
  });

  it('renders fields, buttons and a footer as blocks', async () => {
    const { channel } = seat(h.fake);
    await chat().post(slackChannelOf(channel.id), {
      fields: [{ label: 'Severity', value: 'high' }],
      buttons: [
        { action: 'alert.ack', value: 'EW-1', label: 'Acknowledge', style: 'primary' },
        { action: 'alert.ack', value: 'EW-2', label: 'Acknowledge 2' },
      ],
      footer: 'usage: /alert status <ref>',
    });
    expect(h.fake.messagesIn(channel.id)[0]?.blocks).toEqual([
      { type: 'section', fields: [{ type: 'mrkdwn', text: '*Severity*\nhigh' }] },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'alert.ack',
            value: 'EW-1',
            style: 'primary',
            text: { type: 'plain_text', text: 'Acknowledge', emoji: true },
          },
        ],
      },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'alert.ack',
            value: 'EW-2',
            text: { type: 'plain_text', text: 'Acknowledge 2', emoji: true },
          },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'usage: /alert status &lt;ref&gt;' }] },
    ]);
  });

  it('sends direct messages, opening the conversation once', async () => {
    const user = h.fake.addUser({ name: 'liaison' });
    const first = await chat().sendDirect(userRef('slack', user.id), { body: 'one' });
    await chat().sendDirect(userRef('slack', user.id), { body: 'two' });
    expect(params('conversations.open')).toEqual([{ users: user.id }]);
    const im = h.fake.state.ims.get(user.id) ?? '';
    expect(first).toMatch(new RegExp(`^slack:${im}/`));
    expect(h.fake.messagesIn(im).map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('links to channels and finds them by name across pages', async () => {
    for (let i = 0; i < 205; i++) h.fake.addChannel({ name: `filler-${i}` });
    const target = h.fake.addChannel({ name: 'inc-2026-14-ransomware' });
    h.fake.addChannel({ name: 'inc-2026-15-old', archived: true });
    expect(await chat().findChannel('inc-2026-14-ransomware')).toBe(`slack:${target.id}`);
    expect(params('conversations.list')).toEqual([
      { types: 'public_channel,private_channel', exclude_archived: 'true', limit: '200' },
      expect.objectContaining({ cursor: expect.any(String) }),
    ]);
    expect(await chat().findChannel('inc-2026-15-old')).toBeNull();
    expect(chat().channelLink(slackChannelOf(target.id))).toBe(
      `https://slack.com/app_redirect?channel=${target.id}`,
    );
  });
});

describe('posts under an idempotency key, found again after a crash', () => {
  const card = { tlp: 'amber' as const, title: 'Early warning', body: 'wiper' };
  const longAgo = () => new Date(Date.now() - 5 * 60_000);

  it('tags the first block with the key, and finds the post in the channel by it', async () => {
    const { user, channel } = seat(h.fake);
    const where = slackChannelOf(channel.id);
    const since = new Date();
    h.fake.userPosts(channel.id, user.id, 'noise');
    const tagged = await chat().post(where, card, { key: 'EW-1/slack:C1' });
    await chat().post(where, card);
    await chat().post(where, card, { key: 'EW-1/slack:C2' });

    const [, first] = h.fake.messagesIn(channel.id);
    expect(first?.blocks?.[0]).toMatchObject({ block_id: keyBlockId('EW-1/slack:C1') });
    expect(keyBlockId('EW-1/slack:C1')).toMatch(/^concord-[\w-]{22}$/);
    expect(await chat().findPosted(where, 'EW-1/slack:C1', { since })).toBe(tagged);
    expect(await chat().findPosted(where, 'EW-1/slack:C3', { since })).toBeNull();
    expect(params('conversations.history')[0]).toEqual({
      channel: channel.id,
      oldest: ((since.getTime() - 60_000) / 1000).toFixed(6),
      inclusive: 'true',
      limit: '200',
    });
  });

  it('does not take a post without the key, or one from before `since`, for it', async () => {
    const { user, channel } = seat(h.fake);
    const where = slackChannelOf(channel.id);
    await chat().post(where, card);
    expect(await chat().findPosted(where, 'EW-2/x', { since: longAgo() })).toBeNull();
    const posted = await chat().post(where, card, { key: 'EW-2/x' });
    const later = new Date(Date.now() + 2 * 60_000);
    expect(await chat().findPosted(where, 'EW-2/x', { since: later })).toBeNull();
    // A busy channel: the post is on the second page of history.
    for (let i = 0; i < 250; i++) h.fake.userPosts(channel.id, user.id, `chatter ${i}`);
    const before = params('conversations.history').length;
    expect(await chat().findPosted(where, 'EW-2/x', { since: longAgo() })).toBe(posted);
    expect(params('conversations.history').slice(before)).toEqual([
      expect.not.objectContaining({ cursor: expect.anything() }),
      expect.objectContaining({ cursor: expect.any(String) }),
    ]);
  });

  it('finds a reply in a thread, which the channel history does not list', async () => {
    const { channel } = seat(h.fake);
    const where = slackChannelOf(channel.id);
    const root = await chat().post(where, card, { key: 'REQ-1/card' });
    await chat().post(where, { body: 'other' }, { thread: root, key: 'REQ-1/other' });
    const reply = await chat().post(where, { body: 'answer' }, { thread: root, key: 'REQ-1/a' });
    const since = longAgo();
    expect(await chat().findPosted(where, 'REQ-1/a', { since })).toBeNull();
    expect(await chat().findPosted(where, 'REQ-1/a', { since, thread: root })).toBe(reply);
    expect(await chat().findPosted(where, 'REQ-1/b', { since, thread: root })).toBeNull();
    expect(params('conversations.replies')[0]).toMatchObject({
      channel: channel.id,
      ts: root.split('/')[1],
    });
  });

  it('finds a direct message by the user, opening the conversation after a restart', async () => {
    const user = h.fake.addUser({ name: 'contact' });
    const to = userRef('slack', user.id);
    const sent = await chat().sendDirect(to, card, { key: 'EW-3/slack:U' });
    // A new process: its own adapter, with no conversation opened yet.
    const restarted = await startSlack({
      botToken: h.fake.botToken,
      signingSecret: h.fake.signingSecret,
      apiUrl: h.fake.apiUrl,
      http: createHttpServer(createLogger('silent')),
      inbound: h.inbound,
      logger: createLogger('silent'),
    });
    try {
      expect(await restarted.chat.findPosted(to, 'EW-3/slack:U', { since: longAgo() })).toBe(sent);
      expect(await restarted.chat.findPosted(to, 'EW-3/other', { since: longAgo() })).toBeNull();
      const thread = await restarted.chat.post(
        restarted.chat.channelOf(sent),
        { body: 'reply' },
        { thread: sent, key: 'EW-3/reply' },
      );
      expect(
        await chat().findPosted(chat().channelOf(sent), 'EW-3/reply', {
          since: longAgo(),
          thread: sent,
        }),
      ).toBe(thread);
    } finally {
      await restarted.close();
    }
    expect(params('conversations.open')).toEqual([{ users: user.id }, { users: user.id }]);
  });

  it('paces a direct message and a reply in its thread as one conversation', async () => {
    const user = h.fake.addUser({ name: 'paced' });
    const to = userRef('slack', user.id);
    const sent = await chat().sendDirect(to, card);
    const im = chat().channelOf(sent);
    expect(chat().rates(to, 'post')[0]?.key).toBe(`slack:channel:${im.slice('slack:'.length)}`);
    expect(chat().rates(im, 'post')[0]?.key).toBe(chat().rates(to, 'post')[0]?.key);
  });
});

describe('platform failures', () => {
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    );

  it('turns name_taken, missing_scope and channel_not_found into the core’s failures', async () => {
    await chat().createChannel({ name: 'inc-1', private: false });
    const taken = await failure(chat().createChannel({ name: 'inc-1', private: false }));
    expect(taken).toBeInstanceOf(ChatFailure);
    expect(taken).toMatchObject({ kind: 'name_taken', detail: 'name_taken' });

    h.fake.scopes.delete('channels:manage');
    const scope = await failure(chat().createChannel({ name: 'inc-2', private: false }));
    expect(scope).toMatchObject({
      kind: 'missing_permission',
      detail: 'missing_scope',
      needed: 'the channels:manage scope',
    });

    const gone = await failure(chat().post(slackChannelOf('C404'), { body: 'x' }));
    expect(gone).toMatchObject({ kind: 'not_found', detail: 'channel_not_found' });
  });

  it('waits out a 429 on one channel without delaying another', async () => {
    const [a, b] = [h.fake.addChannel({ name: 'limited' }), h.fake.addChannel({ name: 'free' })];
    h.fake.rateLimitChannel(a.id, 1);
    const started = performance.now();
    const limited = chat()
      .post(slackChannelOf(a.id), { body: 'waits' })
      .then(() => performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const freeStarted = performance.now();
    await chat().post(slackChannelOf(b.id), { body: 'goes' });
    expect(performance.now() - freeStarted).toBeLessThan(300);
    const limitedMs = await limited;
    expect(limitedMs).toBeGreaterThanOrEqual(950);
    expect(limitedMs).toBeLessThan(2500);
    const toA = h.fake.callsTo('chat.postMessage').filter((c) => c.params.channel === a.id);
    expect(toA.map((c) => c.status)).toEqual([429, 200]);
    expect(h.fake.messagesIn(a.id).map((m) => m.text)).toEqual(['waits']);
  });

  it('retries 5xx answers and succeeds', async () => {
    const { channel } = seat(h.fake);
    h.fake.failNext('chat.postMessage', { status: 503, times: 2 });
    await chat().post(slackChannelOf(channel.id), { body: 'eventually' });
    expect(h.fake.callsTo('chat.postMessage').map((c) => c.status)).toEqual([503, 503, 200]);
    expect(h.fake.messagesIn(channel.id)).toHaveLength(1);
  });

  it('gives up on a lasting outage as unavailable', async () => {
    const { channel } = seat(h.fake);
    h.fake.failNext('chat.postMessage', { status: 500, times: Number.POSITIVE_INFINITY });
    const error = await failure(chat().post(slackChannelOf(channel.id), { body: 'never' }));
    expect(error).toMatchObject({ kind: 'unavailable', detail: 'http 500' });
    expect(h.fake.callsTo('chat.postMessage')).toHaveLength(5);
  });

  it('refuses to start with a token Slack does not know', async () => {
    const fake = await startFakeSlack();
    const logger = createLogger('silent');
    const http = createHttpServer(logger);
    try {
      const start = startSlack({
        botToken: 'xoxb-revoked',
        signingSecret: fake.signingSecret,
        apiUrl: fake.apiUrl,
        http,
        inbound: h.inbound,
        logger,
      });
      await expect(start).rejects.toMatchObject({ kind: 'rejected', detail: 'invalid_auth' });
    } finally {
      await fake.close();
    }
  });
});
