import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { discordGatewayClaim } from '../../src/redis/leadership.js';
import { ConcordProcess } from '../bench/fanout-world.js';
import { type FakeDiscord, startFakeDiscord } from '../fakes/discord/index.js';
import { databaseUrl, TEST_POSTGRES_URL, TEST_REDIS_URL } from '../support/env.js';

// Three Concord processes on one Discord bot, one database and one Redis: only one of them holds
// the gateway session, and when it is SIGKILLed another takes the session over within 30 s
// (the bound), while commands keep being answered exactly once.

const DATABASE = `concord_e2e_discord_takeover_${process.pid}`;
// A Redis database of its own (7 and 8: benches, 9: the fan-out crash test), flushed first.
const REDIS_URL = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/11`;
const TAKEOVER_BOUND_MS = 30_000;

let discord: FakeDiscord | undefined;
const processes: ConcordProcess[] = [];
const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
const redis = new Redis(REDIS_URL);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  await discord?.close();
  await admin.unsafe(`drop database if exists ${DATABASE} with (force)`).catch(() => {});
  await admin.end();
  await redis.flushdb().catch(() => {});
  redis.disconnect();
});

/** The pid in the holder's claimant name (`host:pid:random`). */
async function holderPid(): Promise<number | undefined> {
  const holder = await redis.get(discordGatewayClaim('concord'));
  return holder ? Number(holder.split(':')[1]) : undefined;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('several Concord processes on one Discord bot', () => {
  it('keeps one gateway session, taken over within 30 s when its holder dies', async () => {
    discord = await startFakeDiscord();
    const d = discord;
    await admin.unsafe(`drop database if exists ${DATABASE} with (force)`);
    await admin.unsafe(`create database ${DATABASE}`);
    await redis.flushdb();
    const env = {
      DATABASE_URL: databaseUrl(DATABASE),
      REDIS_URL,
      ...d.concordEnv(),
      LOG_LEVEL: process.env.TEST_LOG ?? 'error',
    };
    // One at a time: the first migrates the database the others then find ready.
    for (let i = 0; i < 3; i++) {
      const concord = await ConcordProcess.create(env);
      await concord.start();
      processes.push(concord);
    }
    await until(() => d.gateway.openSessions() === 1, 20_000, 'a gateway session');
    // A few renewal rounds later there is still exactly one, and one IDENTIFY ever.
    await sleep(6_000);
    expect(d.gateway.openSessions()).toBe(1);
    expect(d.gateway.identifies).toBe(1);

    const pid = await holderPid();
    const leader = processes.find((p) => p.pid === pid);
    expect(
      leader,
      `the claim names pid ${pid}, one of ${processes.map((p) => p.pid)}`,
    ).toBeDefined();

    const before = await d.sendCommand({ name: 'concord', subcommand: 'whoami' });
    expect(before.timedOut).toBe(false);

    await leader?.kill();
    const killedAt = Date.now();
    await until(
      () => d.gateway.identifies === 2 && d.gateway.openSessions() === 1,
      TAKEOVER_BOUND_MS,
      'a new session',
    );
    const takeoverMs = Date.now() - killedAt;
    console.log(`discord gateway taken over ${takeoverMs} ms after its holder was SIGKILLed`);
    expect(takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS);
    expect(await holderPid()).not.toBe(pid);

    // The new holder answers commands over the gateway, once each.
    const after = await d.sendCommand({ name: 'concord', subcommand: 'whoami' });
    expect(after.timedOut).toBe(false);
    expect(after.callbackType).toBe(5);
    const interaction = d.interactions.all.get(after.interactionId);
    await until(() => Boolean(interaction?.originalEdits), 10_000, 'the deferred reply');
    await sleep(1_000);
    expect(interaction?.originalEdits).toBe(1);
  }, 120_000);
});
