import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { SlackScreenOptions } from '../../adapters/slack/screen.js';
import { startFrontDoor } from '../../src/http/front-door.js';
import type { HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { buildRequest } from '../fakes/slack/signing.js';
import { testPrefix, testRedis } from '../support/jobs.js';

// Two instances behind one Request URL, each with its own front door: a signed request replayed
// to the other instance is refused there as well, because the screens remember signatures in the
// Redis they share. With that Redis out of reach each still answers at once and remembers alone.

const SCREEN = new URL('../../adapters/slack/screen.ts', import.meta.url).href;
const SECRET = randomBytes(16).toString('hex');
const logger = createLogger('silent');

const doors: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(doors.splice(0).map((door) => door.close()));
});

/** An instance's front door with the Slack screen; what it accepts is pushed to `accepted`. */
async function instance(shared: SlackScreenOptions['shared'], accepted: unknown[]) {
  const door = startFrontDoor({ logger });
  doors.push(door);
  const options: SlackScreenOptions = { signingSecret: SECRET, ...(shared ? { shared } : {}) };
  await door.screen('/slack/events', { module: SCREEN, options }, (a) => accepted.push(a));
  const port = await door.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${port}/slack/events`;
}

function signedCommand(url: string) {
  const body = new URLSearchParams({
    command: '/concord',
    text: 'whoami',
    user_id: 'U1',
    channel_id: 'C1',
    trigger_id: randomBytes(6).toString('hex'),
  }).toString();
  return buildRequest(url, SECRET, body, 'application/x-www-form-urlencoded');
}

const post = (url: string, request: ReturnType<typeof buildRequest>) =>
  fetch(url, { method: 'POST', headers: request.headers, body: request.body }).then(
    (r) => r.status,
  );

describe('replays across instances', () => {
  it('refuses on one instance a request another accepted', async () => {
    const prefix = testPrefix();
    const shared = { redis: testRedis(), prefix };
    const accepted: unknown[] = [];
    const a = await instance(shared, accepted);
    const b = await instance(shared, accepted);
    const request = signedCommand(a);
    expect(await post(a, request)).toBe(200);
    expect(await post(b, request)).toBe(401);
    expect(await post(a, request)).toBe(401);
    // A fresh request is accepted by either.
    expect(await post(b, signedCommand(b))).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(accepted).toHaveLength(2);
    const redis = new Redis(testRedis());
    const keys = await redis.keys(`${prefix}:slack:signature:*`);
    expect(keys).toHaveLength(2);
    await redis.del(...keys);
    redis.disconnect();
  });

  it('without a shared memory, each instance knows only its own', async () => {
    const accepted: unknown[] = [];
    const a = await instance(undefined, accepted);
    const b = await instance(undefined, accepted);
    const request = signedCommand(a);
    expect(await post(a, request)).toBe(200);
    expect(await post(b, request)).toBe(200);
    expect(await post(b, request)).toBe(401);
  });

  it('answers at once, remembering alone, when the shared Redis does not answer', async () => {
    const accepted: unknown[] = [];
    // Nothing listens on port 1: every shared lookup fails at once.
    const a = await instance(
      { redis: { host: '127.0.0.1', port: 1 }, prefix: testPrefix() },
      accepted,
    );
    const request = signedCommand(a);
    const started = performance.now();
    expect(await post(a, request)).toBe(200);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await post(a, request)).toBe(401);
  });
});
