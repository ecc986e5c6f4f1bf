import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'bullmq';
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discordChannel } from '../../adapters/discord/refs.js';
import { slackChannel } from '../../adapters/slack/refs.js';
import { ChatHub } from '../../src/chat/hub.js';
import type { ChatPort } from '../../src/chat/port.js';
import type { ChannelRef } from '../../src/chat/refs.js';
import type { Storage } from '../../src/db/client.js';
import { deliveries } from '../../src/db/schema/index.js';
import { DeliveryQueue, writeDelivery } from '../../src/jobs/deliveries.js';
import { createDeliveryWorker } from '../../src/jobs/delivery-worker.js';
import { Pacer } from '../../src/jobs/pacer.js';
import { createLogger } from '../../src/log.js';
import { messagesIn } from '../fakes/discord/index.js';
import { eventually, testPrefix, testRedis } from '../support/jobs.js';
import { openTestStorage } from '../support/storage.js';
import { startHarness as startDiscordHarness } from './discord-harness.js';
import { startHarness as startSlackHarness } from './slack-harness.js';

// The outbox toward the fake platforms with their rate limits on: the real adapters, the
// delivery worker and the Redis-backed pacer, so a fan-out is paced before it is sent and the
// fakes never have to answer 429.

let storage: Storage;
let redis: Redis;
let stops: (() => Promise<void>)[] = [];

beforeEach(async () => {
  storage = await openTestStorage();
  redis = new Redis(testRedis());
});
afterEach(async () => {
  for (const stop of stops.reverse()) await stop();
  stops = [];
  redis.disconnect();
  await storage.close();
});

/** A delivery queue and paced worker posting through `port`, stopped after the test. */
function outbox(port: ChatPort) {
  const logger = createLogger('silent');
  const prefix = testPrefix();
  const connection = testRedis();
  const chat = new ChatHub();
  chat.register(port);
  const queue = new DeliveryQueue({ db: storage.db, connection, prefix, logger });
  const worker: Worker = createDeliveryWorker({
    db: storage.db,
    connection,
    prefix,
    logger,
    chat,
    pacer: new Pacer(redis, prefix),
  });
  stops.push(async () => {
    await worker.close();
    await queue.queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  });
  return {
    /** Writes and enqueues one post per target, in order; returns when it was enqueued. */
    async send(targets: readonly ChannelRef[]): Promise<number> {
      const ids: number[] = [];
      for (const [i, target] of targets.entries()) {
        const id = await writeDelivery(storage.db, {
          key: `fan-out-${i}`,
          mode: 'channel',
          target,
          message: { tlp: 'green', title: `Alert ${i}` },
        });
        if (id !== null) ids.push(id);
      }
      const at = Date.now();
      await queue.enqueue(ids);
      return at;
    },
  };
}

const allSent = (n: number) => async () =>
  (await storage.db.select().from(deliveries).where(eq(deliveries.status, 'sent'))).length === n;

describe('Slack, paced per channel and per workspace', () => {
  it('fans out to a busy channel and 20 quiet ones without a single 429', async () => {
    const h = await startSlackHarness();
    stops.push(() => h.close());
    const busy = h.fake.addChannel({ name: 'busy' });
    const quiet = Array.from({ length: 20 }, (_, i) => h.fake.addChannel({ name: `quiet-${i}` }));
    const o = outbox(h.adapter.chat);
    const started = await o.send([
      ...Array.from({ length: 10 }, () => slackChannel(busy.id)),
      ...quiet.map((c) => slackChannel(c.id)),
    ]);
    await eventually(allSent(30), 20_000, 'thirty deliveries');

    const posts = h.fake.callsTo('chat.postMessage');
    expect(posts.filter((c) => c.status === 429)).toEqual([]);
    expect(posts).toHaveLength(30);
    expect(h.fake.messagesIn(busy.id)).toHaveLength(10);
    for (const c of quiet) expect(h.fake.messagesIn(c.id)).toHaveLength(1);
    // Two at once, then one a second (adapters/slack/chat.ts says why not three): the busy
    // channel takes about eight seconds...
    const busyAt = posts.filter((c) => c.params.channel === busy.id).map((c) => c.at);
    expect(Math.max(...busyAt) - Math.min(...busyAt)).toBeGreaterThan(7_800);
    // ...and delays nobody else.
    const quietAt = posts.filter((c) => c.params.channel !== busy.id).map((c) => c.at);
    expect(Math.max(...quietAt) - started).toBeLessThan(2_000);
  });

  it('tells private channels and direct messages from public ones', async () => {
    const h = await startSlackHarness();
    stops.push(() => h.close());
    const secret = h.fake.addChannel({ name: 'secret', is_private: true });
    const open = h.fake.addChannel({ name: 'open' });
    const chat = h.adapter.chat;
    expect(await chat.isPrivate(slackChannel(secret.id))).toBe(true);
    expect(await chat.isPrivate(slackChannel(open.id))).toBe(false);
    expect(await chat.isPrivate(slackChannel('D0123'))).toBe(true);
    expect(h.fake.callsTo('conversations.info').map((c) => c.params.channel)).toEqual([
      secret.id,
      open.id,
    ]);
    await expect(chat.isPrivate(slackChannel('C404'))).rejects.toMatchObject({
      kind: 'not_found',
    });
  });
});

describe('Discord, paced under the global limit', () => {
  it('posts to 120 channels at about 48 a second without a single 429', async () => {
    const h = await startDiscordHarness();
    stops.push(() => h.close());
    const channels = Array.from({ length: 120 }, (_, i) => h.fake.addChannel(`alerts-${i}`));
    // The fake counts requests in fixed one-second windows; start-up's requests fill one of them.
    await sleep(1_100);
    const o = outbox(h.adapter.chat);
    const started = await o.send(channels.map((c) => discordChannel(c.id)));
    await eventually(allSent(120), 20_000, '120 deliveries');
    const elapsed = Date.now() - started;

    const calls = h.fake.calls.filter((c) => c.at >= started);
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
    expect(calls.filter((c) => c.route === 'POST /channels/{channel_id}/messages')).toHaveLength(
      120,
    );
    for (const c of channels) expect(messagesIn(h.fake.state, c.id)).toHaveLength(1);
    // 119 intervals of 21 ms after the first, evenly: discord.js alone would send 50 at once.
    expect(elapsed).toBeGreaterThanOrEqual(2_300);
    const postedAt = calls.map((c) => c.at).sort((a, b) => a - b);
    const busiest100ms = Math.max(
      ...postedAt.map((at) => postedAt.filter((t) => t >= at && t < at + 100).length),
    );
    expect(busiest100ms).toBeLessThanOrEqual(20);
  });

  it('tells a channel hidden from @everyone from a public one', async () => {
    const h = await startDiscordHarness();
    stops.push(() => h.close());
    const chat = h.adapter.chat;
    const secret = await chat.createChannel({ name: 'inc-2026-1-red', private: true });
    const open = await chat.createChannel({ name: 'inc-2026-2-green', private: false });
    expect(await chat.isPrivate(secret)).toBe(true);
    expect(await chat.isPrivate(open)).toBe(false);
    expect(await chat.isPrivate(discordChannel(h.fake.channel('general').id))).toBe(false);
  });
});
