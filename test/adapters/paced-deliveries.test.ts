import { setTimeout as sleep } from 'node:timers/promises';
import { eq, inArray } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discordChannel } from '../../adapters/discord/refs.js';
import { slackChannel } from '../../adapters/slack/refs.js';
import { ChatHub } from '../../src/chat/hub.js';
import type { ChatPort } from '../../src/chat/port.js';
import type { ChannelRef } from '../../src/chat/refs.js';
import type { Storage } from '../../src/db/client.js';
import { deliveries } from '../../src/db/schema/index.js';
import { DeliveryQueue, type DeliveryRow, writeDelivery } from '../../src/jobs/deliveries.js';
import { createDeliveryWorkers } from '../../src/jobs/delivery-worker.js';
import { Pacer } from '../../src/jobs/pacer.js';
import { postNow } from '../../src/jobs/send-delivery.js';
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

/**
 * The delivery queue (a lane per platform) and its paced workers posting through `ports`, stopped
 * after the test. `concurrency`: slots per lane.
 */
function outbox(ports: ChatPort | readonly ChatPort[], options: { concurrency?: number } = {}) {
  const logger = createLogger('silent');
  const prefix = testPrefix();
  const connection = testRedis();
  const chat = new ChatHub();
  for (const port of [ports].flat()) chat.register(port);
  const queue = new DeliveryQueue({ db: storage.db, connection, prefix, logger });
  const pacer = new Pacer(redis, prefix);
  const workers = createDeliveryWorkers({
    db: storage.db,
    connection,
    prefix,
    logger,
    chat,
    pacer,
    ...options,
  });
  stops.push(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await queue.obliterate().catch(() => {});
    await queue.close();
  });
  let written = 0;
  return {
    queue,
    /** Posts rows written already claimed at once, as the core does with relayed messages. */
    postNow: (rows: readonly DeliveryRow[]) =>
      postNow({ db: storage.db, chat, queue, logger, pacer }, rows),
    /**
     * Writes one post per target, in order, and enqueues them all at once; returns when they
     * were enqueued and their ids, in the order of `targets`.
     */
    async send(targets: readonly ChannelRef[]): Promise<{ at: number; ids: number[] }> {
      const ids: number[] = [];
      for (const target of targets) {
        const i = written++;
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
      return { at, ids };
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
    const { at: started } = await o.send([
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
    const { at: started } = await o.send(channels.map((c) => discordChannel(c.id)));
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

  it('sends 30 channels on time while one is in 429, and that one once after, re-paced', async () => {
    const h = await startDiscordHarness();
    stops.push(() => h.close());
    const forced = h.fake.addChannel('forced');
    const others = Array.from({ length: 30 }, (_, i) => h.fake.addChannel(`others-${i}`));
    await sleep(1_100);
    // One slot: a post that waited out its 429 in the slot would hold up all 30 behind it.
    const o = outbox(h.adapter.chat, { concurrency: 1 });
    h.fake.rateLimitChannel(forced.id, 2);
    const forcedUntil = Date.now() + 2_000;
    const { at: started, ids } = await o.send([forced, ...others].map((c) => discordChannel(c.id)));
    await eventually(allSent(31), 15_000, '31 deliveries');

    const calls = h.fake.calls.filter((c) => c.at >= started);
    const onForced = (c: { path: string }) => c.path.startsWith(`/channels/${forced.id}/`);
    const posted = calls.filter(
      (c) => c.route === 'POST /channels/{channel_id}/messages' && c.status === 200,
    );
    // The others went at the global pace, 21 ms apart, as if nothing were in the way.
    const othersAt = posted.filter((c) => !onForced(c)).map((c) => c.at);
    expect(othersAt).toHaveLength(30);
    expect(Math.max(...othersAt) - started).toBeLessThan(1_500);
    for (const c of others) expect(messagesIn(h.fake.state, c.id)).toHaveLength(1);
    // The forced channel: one 429, then one post once the limit was over; no global 429.
    expect(calls.filter((c) => c.status === 429).map((c) => c.path)).toEqual([
      `/channels/${forced.id}/messages`,
    ]);
    const forcedAt = posted.filter(onForced).map((c) => c.at);
    expect(forcedAt).toHaveLength(1);
    expect(forcedAt[0]).toBeGreaterThanOrEqual(forcedUntil - 10);
    expect(messagesIn(h.fake.state, forced.id)).toHaveLength(1);
    // The 429 was not the delivery's failure: not counted as an attempt.
    const [row] = await storage.db
      .select()
      .from(deliveries)
      .where(inArray(deliveries.id, ids.slice(0, 1)));
    expect(row).toMatchObject({ status: 'sent', attempts: 1, lastError: null });
  });

  it('hands an inline post that met a 429 to the queue, delayed until the limit is over', async () => {
    const h = await startDiscordHarness();
    stops.push(() => h.close());
    const forced = h.fake.addChannel('forced');
    const o = outbox(h.adapter.chat);
    h.fake.rateLimitChannel(forced.id, 1);
    const forcedUntil = Date.now() + 1_000;
    const input = {
      key: 'relay-1',
      mode: 'channel' as const,
      target: discordChannel(forced.id),
      message: { body: 'relayed' },
    };
    const id = (await writeDelivery(storage.db, input, { claimedAt: new Date() })) ?? 0;
    const started = Date.now();
    await o.postNow([{ id, ...input }]);
    // Not waited out inline: back to pending, the attempt not counted, its job delayed.
    expect(Date.now() - started).toBeLessThan(500);
    const rowNow = async () =>
      (await storage.db.select().from(deliveries).where(eq(deliveries.id, id)))[0];
    expect(await rowNow()).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await o.queue.lanes.discord.getJobState(`delivery-${id}`)).toBe('delayed');

    await eventually(allSent(1), 5_000, 'the relayed post');
    const calls = h.fake.calls.filter((c) => c.path === `/channels/${forced.id}/messages`);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[1]?.at).toBeGreaterThanOrEqual(forcedUntil - 10);
    expect(await rowNow()).toMatchObject({ status: 'sent', attempts: 1, lastError: null });
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

describe('a lane per platform', () => {
  it('posts to Slack at once while a long Discord queue ahead of it waits its turns', async () => {
    const slack = await startSlackHarness();
    stops.push(() => slack.close());
    const discord = await startDiscordHarness();
    stops.push(() => discord.close());
    const toDiscord = Array.from({ length: 150 }, (_, i) => discord.fake.addChannel(`d-${i}`));
    const toSlack = Array.from({ length: 50 }, (_, i) => slack.fake.addChannel({ name: `s-${i}` }));
    await sleep(1_100);
    const o = outbox([slack.adapter.chat, discord.adapter.chat]);
    const { at: started } = await o.send([
      ...toDiscord.map((c) => discordChannel(c.id)),
      ...toSlack.map((c) => slackChannel(c.id)),
    ]);
    await eventually(allSent(200), 20_000, '200 deliveries');

    const slackPosts = slack.fake.callsTo('chat.postMessage');
    expect(slackPosts.filter((c) => c.status === 429)).toEqual([]);
    const slackAt = slackPosts.map((c) => c.at);
    expect(slackAt).toHaveLength(50);
    // Sharing slots with Discord, the last would wait for about 70 Discord turns (1.5 s).
    expect(Math.max(...slackAt) - started).toBeLessThan(1_000);
    const discordCalls = discord.fake.calls.filter((c) => c.at >= started);
    expect(discordCalls.filter((c) => c.status === 429)).toEqual([]);
    const discordAt = discordCalls
      .filter((c) => c.route === 'POST /channels/{channel_id}/messages')
      .map((c) => c.at);
    expect(discordAt).toHaveLength(150);
    // ...while Discord's took their turns under the global limit, 21 ms apart.
    expect(Math.max(...discordAt) - started).toBeGreaterThan(2_900);
  });
});
