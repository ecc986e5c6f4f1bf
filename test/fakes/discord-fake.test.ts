import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { discordContractViolations, type FakeDiscord, startFakeDiscord } from './discord/index.js';

// The fake's own rules, driven with plain fetch and a plain WebSocket (no discord.js), so a rule
// the adapter tests rely on cannot quietly go missing.

let fake: FakeDiscord;
beforeEach(async () => {
  fake = await startFakeDiscord({ messageContentIntent: false });
});
afterEach(async () => {
  await fake.close();
});

function api(method: string, path: string, body?: unknown, auth = true) {
  return fetch(`${fake.apiUrl}/v10${path}`, {
    method,
    headers: {
      ...(auth ? { authorization: `Bot ${fake.botToken}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function registerWhoami() {
  const res = await api(
    'PUT',
    `/applications/${fake.applicationId}/guilds/${fake.guildId}/commands`,
    [
      {
        name: 'concord',
        description: 'help',
        options: [{ type: 1, name: 'whoami', description: 'who am I' }],
      },
    ],
  );
  expect(res.status).toBe(200);
}

const callback = (id: string, token: string, type = 5) =>
  api('POST', `/interactions/${id}/${token}/callback`, { type, data: { flags: 64 } }, false);

describe('interactions', () => {
  it('enforces the 3-second deadline and refuses a second callback with 40060', async () => {
    await registerWhoami();
    const late = fake.sendCommand({ name: 'concord', subcommand: 'whoami' });
    const prompt = fake.sendCommand({ name: 'concord', subcommand: 'whoami' });
    const promptId = [...fake.interactions.all.values()][1];
    if (!promptId) throw new Error('no interaction');
    expect((await callback(promptId.id, promptId.token)).status).toBe(204);
    const second = await callback(promptId.id, promptId.token);
    expect(second.status).toBe(400);
    expect(await second.json()).toMatchObject({ code: 40060 });
    expect(await prompt).toMatchObject({ callbackType: 5, timedOut: false });
    expect(promptId.duplicateCallbacks).toBe(1);

    const result = await late;
    expect(result).toMatchObject({ callbackType: null, timedOut: true });
    const tooLate = await callback(result.interactionId, result.token);
    expect(tooLate.status).toBe(404);
    expect(await tooLate.json()).toMatchObject({ code: 10062 });
    expect(fake.interactions.all.get(result.interactionId)?.timedOut).toBe(true);
  }, 10_000);

  it('only delivers commands that were registered', async () => {
    expect(() => fake.sendCommand({ name: 'concord', subcommand: 'whoami' })).toThrow(
      /not registered/,
    );
  });
});

describe('rate limits', () => {
  it('answers a limited channel with 429, Retry-After and X-RateLimit headers; others go on', async () => {
    const general = fake.channel('general').id;
    const other = fake.addChannel('other').id;
    fake.rateLimitChannel(general, 1);
    const limited = await api('POST', `/channels/${general}/messages`, { content: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(0.5);
    expect(limited.headers.get('x-ratelimit-scope')).toBe('user');
    expect(await limited.json()).toMatchObject({
      global: false,
      message: 'You are being rate limited.',
    });

    for (let i = 0; i < 5; i++) {
      const ok = await api('POST', `/channels/${other}/messages`, { content: `m${i}` });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-ratelimit-limit')).toBe('5');
      expect(ok.headers.get('x-ratelimit-remaining')).toBe(String(4 - i));
      expect(ok.headers.get('x-ratelimit-bucket')).toBeTruthy();
    }
    const sixth = await api('POST', `/channels/${other}/messages`, { content: 'm5' });
    expect(sixth.status).toBe(429);
    expect(((await sixth.json()) as { retry_after: number }).retry_after).toBeGreaterThan(4);
  });

  it('limits the bot to 50 requests a second in all', async () => {
    const channels = [fake.channel('general').id, fake.addChannel('b').id];
    const statuses: number[] = [];
    for (let i = 0; i < 51; i++)
      statuses.push((await api('GET', `/channels/${channels[i % 2]}`)).status);
    expect(statuses.slice(0, 50).every((s) => s === 200)).toBe(true);
    expect(statuses[50]).toBe(429);
    const global = await api('GET', `/channels/${channels[0]}`);
    expect(global.headers.get('x-ratelimit-global')).toBe('true');
    expect(await global.json()).toMatchObject({ global: true });
  });
});

describe('contract checking', () => {
  it('passes calls that fit Discord’s description', () => {
    expect(
      discordContractViolations([
        { method: 'POST', path: '/channels/123/messages', body: { content: 'hi' } },
        { method: 'PUT', path: '/channels/123/messages/pins/456' },
        { method: 'GET', path: '/users/@me' },
      ]),
    ).toEqual([]);
  });

  it('flags an unknown route, a wrong method, a bad id and an invalid body', () => {
    const found = discordContractViolations([
      { method: 'POST', path: '/channels/123/nonsense', body: {} },
      { method: 'DELETE', path: '/gateway/bot' },
      { method: 'GET', path: '/channels/general' },
      {
        method: 'POST',
        path: '/channels/123/messages',
        body: { content: 5, embeds: [{ title: 'x'.repeat(300) }] },
      },
      { method: 'POST', path: '/channels/123/messages/456/threads', body: {} },
    ]);
    expect(found).toHaveLength(5);
    expect(found[0]).toMatch(/no such route/);
    expect(found[1]).toMatch(/has no DELETE/);
    expect(found[2]).toMatch(/path channel_id/);
    expect(found[3]).toMatch(/body .*content/);
    expect(found[4]).toMatch(/name/);
  });

  it('records what the fake receives, refusing bad tokens', async () => {
    expect((await api('GET', '/users/@me', undefined, false)).status).toBe(401);
    expect(fake.calls.at(-1)).toMatchObject({
      method: 'GET',
      route: 'GET /users/@me',
      status: 401,
    });
  });
});

describe('gateway', () => {
  type Packet = { op: number; t?: string; s?: number; d: Record<string, unknown> };
  /** A raw client that keeps every packet, so back-to-back ones (READY, GUILD_CREATE) are not lost. */
  function connect() {
    const url = `${fake.apiUrl.replace('http', 'ws').replace('/api', '')}/gateway?v=10&encoding=json`;
    const ws = new WebSocket(url);
    const queue: Packet[] = [];
    const waiting: ((p: Packet) => void)[] = [];
    ws.on('message', (data) => {
      const packet = JSON.parse(data.toString()) as Packet;
      const take = waiting.shift();
      if (take) take(packet);
      else queue.push(packet);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    const next = () =>
      new Promise<Packet>((resolve) => {
        const queued = queue.shift();
        if (queued) resolve(queued);
        else waiting.push(resolve);
      });
    const send = (payload: unknown) => ws.send(JSON.stringify(payload));
    return { ws, next, send, closed };
  }

  it('says HELLO, acknowledges heartbeats, sends READY then the guild', async () => {
    const gw = connect();
    expect(await gw.next()).toMatchObject({ op: 10, d: { heartbeat_interval: 41_250 } });
    gw.send({ op: 1, d: null });
    expect((await gw.next()).op).toBe(11);
    gw.send({ op: 2, d: { token: fake.botToken, intents: 1 | (1 << 9), properties: {} } });
    expect(await gw.next()).toMatchObject({
      t: 'READY',
      s: 1,
      d: { user: { id: fake.botUserId } },
    });
    const guild = await gw.next();
    expect(guild).toMatchObject({ t: 'GUILD_CREATE', s: 2, d: { id: fake.guildId } });
    expect((guild.d.channels as { name: string }[]).map((c) => c.name)).toContain('general');
    // Without the MESSAGE_CONTENT intent, other people's text arrives blank.
    fake.sendMessage({ content: 'secret' });
    expect(await gw.next()).toMatchObject({ t: 'MESSAGE_CREATE', s: 3, d: { content: '' } });
    gw.ws.close();
  });

  it('replays what a resumed session missed, then says RESUMED', async () => {
    const first = connect();
    await first.next();
    first.send({ op: 2, d: { token: fake.botToken, intents: 1 | (1 << 9) } });
    const ready = await first.next();
    await first.next();
    first.ws.close();
    await first.closed;
    const missed = fake.sendMessage({ content: 'while you were away' });
    const second = connect();
    await second.next();
    second.send({ op: 6, d: { token: fake.botToken, session_id: ready.d.session_id, seq: 2 } });
    expect(await second.next()).toMatchObject({ t: 'MESSAGE_CREATE', s: 3, d: { id: missed.id } });
    expect(await second.next()).toMatchObject({ t: 'RESUMED', s: 4 });
    const unknown = connect();
    await unknown.next();
    unknown.send({ op: 6, d: { token: fake.botToken, session_id: 'nope', seq: 0 } });
    expect(await unknown.next()).toMatchObject({ op: 9, d: false });
    second.ws.close();
    unknown.ws.close();
  });

  it('closes on a bad token (4004) and on unapproved privileged intents (4014)', async () => {
    const bad = connect();
    await bad.next();
    bad.send({ op: 2, d: { token: 'nope', intents: 1 } });
    expect(await bad.closed).toBe(4004);
    const greedy = connect();
    await greedy.next();
    greedy.send({ op: 2, d: { token: fake.botToken, intents: 1 << 15 } });
    expect(await greedy.closed).toBe(4014);
  });
});
