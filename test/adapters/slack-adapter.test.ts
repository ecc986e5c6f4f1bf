import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { renderPlainText } from '../../src/chat/message.js';
import { channelRef, messageRef, userRef } from '../../src/chat/refs.js';
import { type SlackHarness, seat, startHarness } from './slack-harness.js';

// Slack toward Concord: the real Bolt app behind our HttpServer, driven by the fake Slack.

let h: SlackHarness;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('slash commands', () => {
  it('hands the command to the core and answers through the response_url', async () => {
    const { user, channel } = seat(h.fake);
    const sent = await h.fake.sendCommand(h.url, {
      command: '/incident',
      text: 'open Ransomware at port severity:high',
      user_id: user.id,
      channel_id: channel.id,
    });
    expect(sent.status).toBe(200);
    await vi.waitFor(() => expect(h.fake.responses).toHaveLength(1));
    expect(h.inbound.commands).toEqual([
      {
        deliveryKey: `slack:cmd:${sent.triggerId}`,
        user: userRef('slack', user.id),
        channel: channelRef('slack', channel.id),
        text: '/incident open Ransomware at port severity:high',
        userName: 'kadri',
      },
    ]);
    const response = h.fake.responses[0];
    expect(response?.url).toBe(sent.responseUrl);
    expect(response?.body).toMatchObject({ response_type: 'ephemeral', text: 'Done' });
    expect(response?.body.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*Done*' } },
    ]);
  });

  it('answers in the channel when the reply is for everyone', async () => {
    const { user, channel } = seat(h.fake);
    h.inbound.commandReply = { message: { body: 'Incident opened' }, visibility: 'channel' };
    await h.fake.sendCommand(h.url, {
      command: '/concord',
      user_id: user.id,
      channel_id: channel.id,
    });
    await vi.waitFor(() => expect(h.fake.responses).toHaveLength(1));
    expect(h.inbound.commands[0]?.text).toBe('/concord');
    expect(h.fake.responses[0]?.body.response_type).toBe('in_channel');
    expect(h.fake.messagesIn(channel.id).map((m) => m.text)).toEqual(['Incident opened']);
  });

  it('acknowledges within the 3 s deadline while the core takes 5 s', async () => {
    const { user, channel } = seat(h.fake);
    h.inbound.delayMs = 5000;
    const sent = await h.fake.sendCommand(h.url, {
      command: '/assist',
      text: 'list',
      user_id: user.id,
      channel_id: channel.id,
    });
    expect(sent.timedOut).toBe(false);
    expect(sent.status).toBe(200);
    expect(sent.ackMs).toBeLessThan(1000);
    expect(h.inbound.commands).toHaveLength(1);
    expect(h.fake.responses).toHaveLength(0);
    await vi.waitFor(() => expect(h.fake.responses).toHaveLength(1), { timeout: 8000 });
    expect(h.fake.ackTimeouts).toEqual([]);
  }, 15_000);

  it('apologises in one line, with a reference, when the core fails', async () => {
    const { user, channel } = seat(h.fake);
    h.inbound.failWith = new Error('relation "incidents" does not exist');
    await h.fake.sendCommand(h.url, {
      command: '/incident',
      text: 'list',
      user_id: user.id,
      channel_id: channel.id,
    });
    await vi.waitFor(() => expect(h.fake.responses).toHaveLength(1));
    const body = h.fake.responses[0]?.body ?? {};
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toMatch(
      /^Sorry, that did not work \(ref [0-9a-f]{8}\)\. It has been logged\.$/,
    );
    expect(JSON.stringify(body)).not.toContain('incidents');
  });
});

describe('request verification', () => {
  const refused = [
    ['a forged signature', { forgeSignature: true }],
    ['no signature', { omitSignature: true }],
    ['a stale timestamp (-6 min)', { timestampOffsetSec: -360 }],
    ['a future timestamp (+6 min)', { timestampOffsetSec: 360 }],
  ] as const;

  it.each(refused)('refuses %s with 401 and never calls the core', async (_, options) => {
    const { user, channel } = seat(h.fake);
    const sent = await h.fake.sendCommand(
      h.url,
      { command: '/org', text: 'list', user_id: user.id, channel_id: channel.id },
      options,
    );
    expect(sent.status).toBe(401);
    const event = h.fake.userPosts(channel.id, user.id, 'hello');
    expect((await h.fake.sendEvent(h.url, event, options)).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.inbound.commands).toEqual([]);
    expect(h.inbound.messages).toEqual([]);
  });

  it('accepts a timestamp 4 minutes old (inside the window)', async () => {
    const { user, channel } = seat(h.fake);
    const input = { command: '/org', text: 'list', user_id: user.id, channel_id: channel.id };
    expect((await h.fake.sendCommand(h.url, input, { timestampOffsetSec: -240 })).status).toBe(200);
    await vi.waitFor(() => expect(h.inbound.commands).toHaveLength(1));
  });

  it('judges the window by the clock it is given', async () => {
    await h.close();
    h = await startHarness({}, { clockSkewMs: 6 * 60_000 });
    const { user, channel } = seat(h.fake);
    const input = { command: '/org', text: 'list', user_id: user.id, channel_id: channel.id };
    expect((await h.fake.sendCommand(h.url, input)).status).toBe(401);
    expect((await h.fake.sendCommand(h.url, input, { timestampOffsetSec: 360 })).status).toBe(200);
  });

  it('refuses a replayed request', async () => {
    const { user, channel } = seat(h.fake);
    const first = await h.fake.sendCommand(h.url, {
      command: '/org',
      text: 'list',
      user_id: user.id,
      channel_id: channel.id,
    });
    expect(first.status).toBe(200);
    await vi.waitFor(() => expect(h.inbound.commands).toHaveLength(1));
    expect((await h.fake.replay(first.request)).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.inbound.commands).toHaveLength(1);
  });

  it('answers 413 to a body over 1 MiB', async () => {
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(1024 * 1024) }),
    });
    expect(response.status).toBe(413);
  });

  it("echoes Slack's url_verification challenge", async () => {
    const check = await h.fake.verifyUrl(h.url);
    expect(check.status).toBe(200);
    expect(JSON.parse(check.body)).toEqual({ challenge: check.challenge });
  });
});

describe('message events', () => {
  it('delivers an event Slack retries three times exactly once', async () => {
    const { user, channel } = seat(h.fake);
    const event = h.fake.userPosts(channel.id, user.id, 'status: contained');
    const first = await h.fake.sendEvent(h.url, event);
    const statuses = [first.status];
    for (const retryNum of [1, 2, 3]) {
      statuses.push(
        (await h.fake.sendEvent(h.url, event, { eventId: first.eventId, retryNum })).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.inbound.messages).toEqual([
      {
        deliveryKey: `slack:evt:${first.eventId}`,
        user: userRef('slack', user.id),
        channel: channelRef('slack', channel.id),
        message: messageRef('slack', `${channel.id}/${String(event.ts)}`),
        text: 'status: contained',
      },
    ]);
  });

  it("drops the bot's own messages and system subtypes", async () => {
    const { user, channel } = seat(h.fake);
    const relayed = await h.adapter.chat.post(channelRef('slack', channel.id), { body: 'relayed' });
    const ts = relayed.split('/')[1];
    const own = {
      type: 'message',
      channel: channel.id,
      user: h.fake.botUserId,
      bot_id: h.fake.state.bot.botId,
      text: 'relayed',
      ts,
    };
    const otherBot = {
      type: 'message',
      subtype: 'bot_message',
      channel: channel.id,
      bot_id: 'B999',
      text: 'x',
      ts: '1700000000.000001',
    };
    const join = {
      type: 'message',
      subtype: 'channel_join',
      channel: channel.id,
      user: user.id,
      text: 'joined',
      ts: '1700000000.000002',
    };
    // Updating its own card makes Slack send the bot a message_changed carrying its bot_id.
    const ownEdit = {
      type: 'message',
      subtype: 'message_changed',
      channel: channel.id,
      ts: '1700000000.000003',
      message: { type: 'message', user: h.fake.botUserId, bot_id: own.bot_id, text: 'v2', ts },
      previous_message: { type: 'message', user: h.fake.botUserId, text: 'relayed', ts },
    };
    for (const event of [own, otherBot, join, ownEdit]) {
      expect((await h.fake.sendEvent(h.url, event)).status).toBe(200);
    }
    await h.fake.sendEvent(h.url, h.fake.userPosts(channel.id, user.id, 'a person'));
    await vi.waitFor(() => expect(h.inbound.messages).toHaveLength(1));
    expect(h.inbound.messages[0]?.text).toBe('a person');
  });

  it('maps thread replies and edits', async () => {
    const { user, channel } = seat(h.fake);
    const root = h.fake.userPosts(channel.id, user.id, 'root');
    const rootTs = String(root.ts);
    const reply = h.fake.userPosts(channel.id, user.id, 'in thread', { threadTs: rootTs });
    await h.fake.sendEvent(h.url, reply);
    const edit = h.fake.userEdits(channel.id, String(reply.ts), 'in thread, edited');
    await h.fake.sendEvent(h.url, edit);
    await vi.waitFor(() => expect(h.inbound.messages).toHaveLength(2));
    const thread = messageRef('slack', `${channel.id}/${rootTs}`);
    const replyRef = messageRef('slack', `${channel.id}/${String(reply.ts)}`);
    expect(h.inbound.messages[0]).toMatchObject({ thread, message: replyRef, text: 'in thread' });
    expect(h.inbound.messages[0]?.edited).toBeUndefined();
    expect(h.inbound.messages[1]).toMatchObject({
      thread,
      message: replyRef,
      text: 'in thread, edited',
      edited: true,
    });
  });
});

describe('buttons', () => {
  it('turns a press on a posted card into an action and answers privately', async () => {
    const { user, channel } = seat(h.fake);
    const card = {
      tlp: 'amber' as const,
      title: 'AR-2026-7: malware analysis',
      buttons: [
        { action: 'assist.accept', value: 'AR-2026-7', label: 'Accept', style: 'primary' as const },
        { action: 'assist.decline', value: 'AR-2026-7', label: 'Decline' },
      ],
    };
    const ref = await h.adapter.chat.post(channelRef('slack', channel.id), card);
    const posted = h.fake.messagesIn(channel.id).at(-1);
    expect(posted?.text).toBe(renderPlainText(card));
    const actions = posted?.blocks?.find((b) => (b as { type: string }).type === 'actions') as {
      elements: { action_id: string; value: string }[];
    };
    const accept = actions.elements[0];
    expect(accept).toMatchObject({ action_id: 'assist.accept', value: 'AR-2026-7' });
    h.inbound.actionReply = { message: { body: 'Accepted' }, visibility: 'channel' };
    const pressed = await h.fake.sendAction(h.url, {
      user_id: user.id,
      channel_id: channel.id,
      message_ts: String(posted?.ts),
      actions: [{ action_id: accept?.action_id ?? '', value: accept?.value ?? '' }],
    });
    expect(pressed.status).toBe(200);
    await vi.waitFor(() => expect(h.fake.responses).toHaveLength(1));
    expect(h.inbound.actions).toEqual([
      {
        deliveryKey: `slack:act:${pressed.triggerId}`,
        user: userRef('slack', user.id),
        channel: channelRef('slack', channel.id),
        message: ref,
        action: 'assist.accept',
        value: 'AR-2026-7',
      },
    ]);
    expect(h.fake.responses[0]?.body).toMatchObject({
      response_type: 'ephemeral',
      text: 'Accepted',
    });
  });
});
