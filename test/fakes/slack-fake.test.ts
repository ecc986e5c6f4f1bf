import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidSlackRequest } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeSlack,
  signSlackRequest,
  slackContractViolations,
  startFakeSlack,
} from './slack/index.js';

// The fake's own rules, checked over HTTP as the app would meet them.

let fake: FakeSlack;

beforeEach(async () => {
  fake = await startFakeSlack();
});
afterEach(async () => {
  expect(slackContractViolations(fake.calls)).toEqual([]);
  await fake.close();
});

/** One Web API call as the WebClient makes it: form-encoded POST with a bearer token. */
async function api(method: string, params: Record<string, string>, token = fake.botToken) {
  const response = await fetch(`${fake.apiUrl}${method}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params).toString(),
  });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
}

/** A stand-in app that records what Slack sent it and answers after `delayMs`. */
async function startApp(delayMs = 0) {
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      setTimeout(() => res.end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url, received, close };
}

describe('signing', () => {
  it("matches Slack's documented example", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('signs commands so that Bolt accepts them, and can forge and shift them', async () => {
    const app = await startApp();
    try {
      const user = fake.addUser({ name: 'kadri' });
      const channel = fake.addChannel({ name: 'general', members: [fake.botUserId, user.id] });
      const input = {
        command: '/poc',
        text: 'who forensics',
        user_id: user.id,
        channel_id: channel.id,
      };
      const sent = await fake.sendCommand(app.url, input);
      await fake.sendCommand(app.url, input, { forgeSignature: true });
      await fake.sendCommand(app.url, input, { timestampOffsetSec: -360 });
      const valid = app.received.map((r) =>
        isValidSlackRequest({
          signingSecret: fake.signingSecret,
          body: r.body,
          headers: {
            'x-slack-signature': String(r.headers['x-slack-signature']),
            'x-slack-request-timestamp': Number(r.headers['x-slack-request-timestamp']),
          },
        }),
      );
      expect(valid).toEqual([true, false, false]);
      const fields = new URLSearchParams(app.received[0]?.body);
      expect(fields.get('command')).toBe('/poc');
      expect(fields.get('user_name')).toBe('kadri');
      expect(fields.get('response_url')).toBe(sent.responseUrl);
      expect(sent.responseUrl.startsWith(`${fake.baseUrl}/respond/`)).toBe(true);
      expect(sent.status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('gives up after 3 seconds and records the timeout', async () => {
    const app = await startApp(3300);
    try {
      const result = await fake.sendEvent(app.url, { type: 'app_mention', text: 'hi' });
      expect(result.timedOut).toBe(true);
      expect(result.status).toBe(0);
      expect(fake.ackTimeouts).toEqual([expect.objectContaining({ eventId: result.eventId })]);
    } finally {
      await app.close();
    }
  });
});

describe('Web API', () => {
  it('refuses a wrong token', async () => {
    expect((await api('auth.test', {}, 'xoxb-wrong')).body).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    expect((await api('auth.test', {})).body).toMatchObject({ ok: true, user_id: fake.botUserId });
  });

  it('applies channel name rules and answers name_taken', async () => {
    expect((await api('conversations.create', { name: 'inc-1' })).body.ok).toBe(true);
    expect((await api('conversations.create', { name: 'inc-1' })).body.error).toBe('name_taken');
    expect((await api('conversations.create', { name: 'Inc 2' })).body.error).toBe(
      'invalid_name_specials',
    );
    expect((await api('conversations.create', { name: 'x'.repeat(81) })).body.error).toBe(
      'invalid_name_maxlength',
    );
    expect(fake.calls.map((c) => c.error)).toEqual([
      undefined,
      'name_taken',
      'invalid_name_specials',
      'invalid_name_maxlength',
    ]);
  });

  it('answers missing_scope with the scope needed', async () => {
    fake.scopes.delete('groups:write');
    const answer = await api('conversations.create', { name: 'secret', is_private: 'true' });
    expect(answer.body).toMatchObject({
      ok: false,
      error: 'missing_scope',
      needed: 'groups:write',
    });
  });

  it('fails a whole invite when one user is already in', async () => {
    const [a, b] = [fake.addUser({ name: 'a' }), fake.addUser({ name: 'b' })];
    const channel = fake.addChannel({ name: 'ops', members: [fake.botUserId, a.id] });
    const both = await api('conversations.invite', {
      channel: channel.id,
      users: `${a.id},${b.id}`,
    });
    expect(both.body.error).toBe('already_in_channel');
    expect(channel.members).toEqual([fake.botUserId, a.id]);
    expect(
      (await api('conversations.invite', { channel: channel.id, users: 'U404' })).body.error,
    ).toBe('user_not_found');
  });

  it('needs an existing thread for thread_ts', async () => {
    const channel = fake.addChannel({ name: 'ops' });
    const first = await api('chat.postMessage', { channel: channel.id, text: 'root' });
    const ts = String(first.body.ts);
    expect(
      (await api('chat.postMessage', { channel: channel.id, text: 'r', thread_ts: ts })).body.ok,
    ).toBe(true);
    const orphan = await api('chat.postMessage', {
      channel: channel.id,
      text: 'r',
      thread_ts: '1.2',
    });
    expect(orphan.body.error).toBe('thread_not_found');
    expect(fake.messagesIn(channel.id).map((m) => m.thread_ts)).toEqual([ts, ts]);
  });

  it('pages conversations.list with cursors', async () => {
    for (let i = 0; i < 5; i++) fake.addChannel({ name: `c-${i}` });
    const names: string[] = [];
    let cursor = '';
    do {
      const page = await api('conversations.list', { limit: '2', ...(cursor ? { cursor } : {}) });
      const channels = page.body.channels as { name: string }[];
      names.push(...channels.map((c) => c.name));
      cursor = (page.body.response_metadata as { next_cursor: string }).next_cursor;
    } while (cursor);
    expect(names).toEqual(['c-0', 'c-1', 'c-2', 'c-3', 'c-4']);
  });

  it('delays every answer by latencyMs', async () => {
    fake.latencyMs = 200;
    const started = performance.now();
    await api('auth.test', {});
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('injects failures for the next calls of one method', async () => {
    fake.failNext('users.info', { status: 503, times: 2 });
    fake.failNext('users.info', { retryAfter: 7 });
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await api('users.info', { user: fake.botUserId })).status);
    expect(statuses).toEqual([503, 503, 429, 200]);
    expect(fake.calls[2]).toMatchObject({ status: 429, retryAfter: 7 });
  });
});

describe('rate limits', () => {
  it('allows a burst of 3 posts per channel, then 429 with Retry-After', async () => {
    const channel = fake.addChannel({ name: 'busy' });
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(await api('chat.postMessage', { channel: channel.id, text: `${i}` }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers[3]?.retryAfter).toBe('1');
    expect(fake.calls[3]).toMatchObject({ status: 429, retryAfter: 1, error: 'ratelimited' });
    expect(fake.messagesIn(channel.id)).toHaveLength(3);
  });

  it('limits the workspace as a whole', async () => {
    await fake.close();
    fake = await startFakeSlack({ rateLimits: { workspacePerMinute: 2 } });
    const channels = [0, 1, 2].map((i) => fake.addChannel({ name: `c${i}` }).id);
    const statuses = [];
    for (const channel of channels)
      statuses.push((await api('chat.postMessage', { channel, text: 'x' })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('forces one channel into 429 and leaves the others alone', async () => {
    const [a, b] = [fake.addChannel({ name: 'a' }), fake.addChannel({ name: 'b' })];
    fake.rateLimitChannel(a.id, 2);
    const limited = await api('chat.postMessage', { channel: a.id, text: 'x' });
    expect([limited.status, limited.retryAfter]).toEqual([429, '2']);
    expect((await api('chat.postMessage', { channel: b.id, text: 'x' })).status).toBe(200);
  });
});

describe('response URLs', () => {
  it('takes five posts and records the sixth as a violation', async () => {
    const app = await startApp();
    try {
      const user = fake.addUser({ name: 'kadri' });
      const channel = fake.addChannel({ name: 'general', members: [fake.botUserId, user.id] });
      const sent = await fake.sendCommand(app.url, {
        command: '/x',
        user_id: user.id,
        channel_id: channel.id,
      });
      const statuses = [];
      for (let i = 0; i < 6; i++) {
        const response = await fetch(sent.responseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            response_type: i === 0 ? 'in_channel' : 'ephemeral',
            text: `${i}`,
          }),
        });
        statuses.push(response.status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 404]);
      expect(fake.responseViolations).toHaveLength(1);
      expect(fake.messagesIn(channel.id).map((m) => m.text)).toEqual(['0']);
      expect(fake.state.ephemerals).toHaveLength(4);
    } finally {
      await app.close();
    }
  });
});
