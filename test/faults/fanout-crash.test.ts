import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { ConcordProcess } from '../bench/fanout-world.js';
import { type FakeDiscord, messagesIn, startFakeDiscord } from '../fakes/discord/index.js';
import { type FakeSlack, startFakeSlack } from '../fakes/slack/index.js';
import {
  addInboxes,
  type Inbox,
  seedEarlyWarningDirectory,
} from '../support/early-warning-world.js';
import { databaseUrl, TEST_POSTGRES_URL, TEST_REDIS_URL } from '../support/env.js';

// Concord as a real process, SIGKILLed in the middle of an early warning's fan-out to 20 Slack
// and 20 Discord inboxes, then started again: every inbox ends up with the card exactly once.
// At the kill, the Slack cards are posted but Slack's answers are held back (the fake's
// holdAfter), and the Discord posts are on their way (the fake's latency): the rows are left
// 'sending' by a process that no longer exists, the window in which a restart used to wait out
// the two-minute claim timeout and then post every one of those cards a second time.

const PER_PLATFORM = 20;
const DATABASE = `concord_e2e_fanout_crash_${process.pid}`;
// A Redis database of its own (the benches use 7 and 8), flushed at the start.
const REDIS_URL = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/9`;

let slack: FakeSlack | undefined;
let discord: FakeDiscord | undefined;
let concord: ConcordProcess | undefined;
const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
afterAll(async () => {
  await concord?.kill();
  await slack?.close();
  await discord?.close();
  await admin.unsafe(`drop database if exists ${DATABASE} with (force)`).catch(() => {});
  await admin.end();
  const redis = new Redis(REDIS_URL);
  await redis.flushdb().catch(() => {});
  redis.disconnect();
});

/** Delegations with an early-warning contact and a private inbox each, alternating platforms. */
async function seed(s: FakeSlack, d: FakeDiscord) {
  await admin.unsafe(`drop database if exists ${DATABASE} with (force)`);
  await admin.unsafe(`create database ${DATABASE}`);
  const redis = new Redis(REDIS_URL);
  await redis.flushdb();
  redis.disconnect();

  const { sender, ops, inboxes } = addInboxes(s, d, PER_PLATFORM);
  await seedEarlyWarningDirectory(databaseUrl(DATABASE), sender.id, inboxes);
  return { sender, ops, inboxes };
}

describe('Concord killed halfway through a fan-out', () => {
  it('finishes it after a restart, within seconds, with one card in every inbox', async () => {
    slack = await startFakeSlack();
    discord = await startFakeDiscord();
    const s = slack;
    const d = discord;
    const { sender, ops, inboxes } = await seed(s, d);
    concord = await ConcordProcess.create({
      DATABASE_URL: databaseUrl(DATABASE),
      REDIS_URL,
      ...s.concordEnv(),
      ...d.concordEnv(),
      LOG_LEVEL: 'error',
    });
    await concord.start();

    const token = `crash-${process.pid}`;
    /** How many copies of the card each inbox holds, as its members see them. */
    const cards = (b: Inbox) =>
      b.platform === 'slack'
        ? s.messagesIn(b.channel).filter((m) => m.text.includes(token)).length
        : messagesIn(d.state, b.channel).filter((m) => JSON.stringify(m.embeds).includes(token))
            .length;
    const holding = () => inboxes.filter((b) => cards(b) > 0).length;

    s.holdAfter.set('chat.postMessage', 4_000);
    d.latencyMs = 1_500;
    const sent = await s.sendCommand(concord.eventsUrl, {
      command: '/alert',
      text: `Drill ${token} wiper in shared VPN appliances to:delegations tlp:amber severity:high`,
      user_id: sender.id,
      channel_id: ops.id,
    });
    expect(sent.status).toBe(200);
    // Every Slack card is posted (its answer held back) and the Discord posts are under way.
    const deadline = Date.now() + 20_000;
    while (
      Date.now() < deadline &&
      inboxes.filter((b) => b.platform === 'slack' && cards(b) > 0).length < PER_PLATFORM
    )
      await sleep(20);
    await concord.kill();
    const killedAt = Date.now();
    const atKill = holding();
    s.holdAfter.clear();
    d.latencyMs = 0;

    const sql = postgres(databaseUrl(DATABASE), { max: 1, onnotice: () => {} });
    try {
      const rows = async () =>
        Object.fromEntries(
          (
            await sql<{ status: string; n: number }[]>`
              select status, count(*)::int as n from deliveries group by status`
          ).map((r) => [r.status, r.n]),
        );
      const rowsAtKill = await rows();
      expect(rowsAtKill.sending ?? 0).toBeGreaterThan(0);

      await concord.start();
      const readyMs = Date.now() - killedAt;
      let settledMs = 0;
      while (Date.now() - killedAt < 40_000) {
        const now = await rows();
        if (holding() === inboxes.length && (now.pending ?? 0) + (now.sending ?? 0) === 0) {
          settledMs = Date.now() - killedAt;
          break;
        }
        await sleep(100);
      }
      await sleep(1_500); // a late double would show itself
      const copies = inboxes.map((b) => `${b.org} ${b.platform} ${cards(b)}`);
      console.log(
        `fan-out crash: ${atKill}/${inboxes.length} inboxes had the card at the kill; rows then ${JSON.stringify(rowsAtKill)}; restarted in ${readyMs} ms; all delivered and settled ${settledMs} ms after the kill; rows now ${JSON.stringify(await rows())}`,
      );
      expect(copies).toEqual(inboxes.map((b) => `${b.org} ${b.platform} 1`));
      expect(await rows()).toEqual({ sent: inboxes.length });
      // The dead process's liveness key lapses within 15 s of the kill, and the pass that sees
      // it gone runs every 5 s; the claim timeout alone would have taken two minutes.
      expect(settledMs).toBeGreaterThan(0);
      expect(settledMs).toBeLessThan(25_000);
    } finally {
      await sql.end();
    }
  }, 90_000);
});
