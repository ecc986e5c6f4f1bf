import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFrontDoor } from '../../src/http/front-door.js';
import { type HttpServer, PortInUseError, sendJson } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { buildRequest } from '../fakes/slack/signing.js';
import { type SlackHarness, seat, startHarness } from './slack-harness.js';

// The running process's HTTP server: a thread of its own that answers screened routes (Slack)
// itself and relays every other route to the handlers on the main thread.

describe('the front door with the Slack adapter', () => {
  let h: SlackHarness;
  afterEach(async () => {
    await h.close();
  });

  it('acknowledges a signed command while the main thread is blocked, then runs it', async () => {
    h = await startHarness({}, {}, { frontDoor: true });
    const { user, channel } = seat(h.fake);
    const { body, triggerId } = h.fake.prepareCommand({
      command: '/incident',
      text: 'list',
      user_id: user.id,
      channel_id: channel.id,
    });
    const request = buildRequest(
      h.url,
      h.fake.signingSecret,
      body,
      'application/x-www-form-urlencoded',
    );
    // spawnSync blocks this thread until the child is done: only the front door can answer it.
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const started = performance.now();
         const res = await fetch(${JSON.stringify(h.url)}, { method: 'POST', headers: ${JSON.stringify(request.headers)}, body: ${JSON.stringify(body)} });
         console.log(JSON.stringify({ status: res.status, ms: performance.now() - started }));`,
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    const answered = JSON.parse(child.stdout) as { status: number; ms: number };
    expect(answered.status).toBe(200);
    expect(answered.ms).toBeLessThan(3000);
    expect(h.inbound.commands).toEqual([]);
    await vi.waitFor(() => expect(h.fake.responses).toHaveLength(1));
    expect(h.inbound.commands.map((c) => c.deliveryKey)).toEqual([`slack:cmd:${triggerId}`]);
  });

  it('refuses forged, stale and replayed requests with 401 and hands nothing on', async () => {
    h = await startHarness({}, {}, { frontDoor: true });
    const { user, channel } = seat(h.fake);
    const command = {
      command: '/incident',
      text: 'list',
      user_id: user.id,
      channel_id: channel.id,
    };
    expect((await h.fake.sendCommand(h.url, command, { forgeSignature: true })).status).toBe(401);
    expect((await h.fake.sendCommand(h.url, command, { timestampOffsetSec: -6 * 60 })).status).toBe(
      401,
    );
    const first = await h.fake.sendCommand(h.url, command);
    expect(first.status).toBe(200);
    const replay = await fetch(first.request.url, {
      method: 'POST',
      headers: first.request.headers,
      body: first.request.body,
    });
    expect(replay.status).toBe(401);
    await vi.waitFor(() => expect(h.fake.responses).toHaveLength(1));
    expect(h.inbound.commands).toHaveLength(1);
  });
});

describe('the front door relaying routes to the main thread', () => {
  let http: HttpServer;
  afterEach(async () => {
    await http.close();
  });

  const start = async () => {
    http = startFrontDoor({ logger: createLogger('silent') });
    http.route('GET', '/hello', (req, res) => sendJson(res, 200, { url: req.url }));
    http.route('POST', '/echo', async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      res.setHeader('x-seen', req.headers['x-test'] ?? '');
      res.writeHead(201, { 'content-type': 'text/plain' });
      res.end(Buffer.concat(chunks).toString().toUpperCase());
    });
    http.route('GET', '/broken', () => {
      throw new Error('boom');
    });
    const port = await http.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${port}`;
  };

  it('answers with the main thread handlers: status, headers and body', async () => {
    const base = await start();
    const hello = await fetch(`${base}/hello?x=1`);
    expect(hello.status).toBe(200);
    expect(await hello.json()).toEqual({ url: '/hello?x=1' });
    const echo = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'x-test': 'yes' },
      body: 'quiet',
    });
    expect(echo.status).toBe(201);
    expect(echo.headers.get('x-seen')).toBe('yes');
    expect(await echo.text()).toBe('QUIET');
  });

  it('answers 404, 405, 413 and 500 without the handler or with its failure', async () => {
    const base = await start();
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    const wrongMethod = await fetch(`${base}/hello`, { method: 'POST', body: 'x' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    const huge = await fetch(`${base}/echo`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(huge.status).toBe(413);
    expect((await fetch(`${base}/broken`)).status).toBe(500);
  });

  it('refuses a screen module that does not export createScreen', async () => {
    await start();
    await expect(
      http.screen(
        '/odd',
        { module: new URL('../../src/http/screen.ts', import.meta.url).href, options: {} },
        () => {},
      ),
    ).rejects.toThrow(/createScreen/);
  });

  it('says which port is taken', async () => {
    const base = await start();
    const taken = Number(new URL(base).port);
    const second = startFrontDoor({ logger: createLogger('silent') });
    await expect(second.listen(taken, '127.0.0.1')).rejects.toBeInstanceOf(PortInUseError);
    await second.close();
  });
});
