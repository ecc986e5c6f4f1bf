import { afterAll, beforeAll, describe, expect, it, type RunnerTestCase } from 'vitest';
import { reportFault, settle, tally } from './support/ledger.js';
import { until } from './support/ports.js';
import { alertEveryDelegation, scheduleSessions, token } from './support/workloads.js';
import { FaultWorld } from './support/world.js';

// Redis restarted (its AOF keeps every key) and Redis wiped (restarted with its data deleted),
// each in the middle of scheduled work (forum reminders due every few seconds) and of an early
// warning's fan-out to 60 inboxes on each platform. Postgres is the source of truth: whatever
// Redis loses, the reconciler puts back, and each message arrives exactly once.

const PER_PLATFORM = 60;
const SESSIONS = 6;
/** How long Redis is down, as for a restart by hand or by a supervisor. */
const DOWN_MS = 3_000;

let world: FaultWorld | undefined;
beforeAll(async () => {
  world = await FaultWorld.start({ perPlatform: PER_PLATFORM, forumChannels: SESSIONS });
});
afterAll(async () => {
  await world?.close();
});

/**
 * Schedules sessions whose reminders fall due before, during and after the fault, starts a
 * fan-out slowed by both fakes' latency (Discord's 32 slots hold about half its cards; the rest
 * wait in Redis), plays the fault once the first Discord cards are in, and counts.
 */
async function faultMidWork(
  task: Readonly<RunnerTestCase>,
  name: string,
  fault: (w: FaultWorld) => Promise<void>,
) {
  const w = world as FaultWorld;
  const tag = token('redis');
  const sessions = await scheduleSessions(w, tag, { firstInS: 13, spreadS: 1, remind: [10, 5] });
  const fired = () => sessions.expectations.length - tally(sessions.expectations).lost;
  expect(await until(() => fired() > 0, 30_000)).toBe(true);

  w.slack.latencyMs = 1_500;
  w.discord.latencyMs = 1_500;
  const fan = await alertEveryDelegation(w, tag);
  const discordCards = () =>
    w.inboxes.filter((b) => b.platform === 'discord' && w.inboxCopies(b, tag) > 0).length;
  expect(await until(() => discordCards() > 0, 30_000, 20)).toBe(true);

  const atFault = { cards: fan.reached(), reminders: fired() };
  const faultAt = Date.now();
  await fault(w);
  const faultMs = Date.now() - faultAt;
  w.slack.latencyMs = 0;
  w.discord.latencyMs = 0;

  const all = [...sessions.expectations, ...fan.expectations];
  const settled = await settle(w, all, { since: faultAt, timeoutMs: 150_000 });
  const items = await w.itemStates('forum.%');
  const scheduled = tally(sessions.expectations);
  const cards = tally(fan.expectations);
  reportFault(
    task,
    {
      fault: `${name} mid scheduled work`,
      expected: scheduled.expected,
      lost: scheduled.lost,
      doubled: scheduled.doubled,
      settledMs: settled.settledMs,
      notes: `${atFault.reminders}/${scheduled.expected} reminders out at the fault; redis back after ${faultMs} ms; items ${JSON.stringify(items)}`,
    },
    scheduled,
  );
  reportFault(
    task,
    {
      fault: `${name} mid fan-out`,
      expected: cards.expected,
      lost: cards.lost,
      doubled: cards.doubled,
      settledMs: settled.settledMs,
      notes: `${atFault.cards}/${cards.expected} cards in at the fault; deliveries ${JSON.stringify(settled.deliveries)}`,
    },
    cards,
  );

  // The fault struck in the middle of both workloads.
  expect(atFault.reminders).toBeLessThan(scheduled.expected);
  expect(atFault.cards).toBeLessThan(cards.expected);
  expect({ lost: scheduled.lost, doubled: scheduled.doubled }).toEqual({ lost: 0, doubled: 0 });
  expect({ lost: cards.lost, doubled: cards.doubled }).toEqual({ lost: 0, doubled: 0 });
  expect(Object.keys(settled.deliveries)).toEqual(['sent']);
  expect(items).toEqual({ done: expect.any(Number) });
  expect(w.concord.unexpectedExits).toEqual([]);
}

describe('Redis faults in the middle of scheduled work and of a fan-out', () => {
  it('Redis restarted (AOF on): nothing lost, nothing doubled', async ({ task }) => {
    await faultMidWork(task, 'redis restart', (w) => w.redis.restart({ downMs: DOWN_MS }));
  });

  it('Redis wiped (restarted empty): the reconciler puts everything back, once', async ({
    task,
  }) => {
    await faultMidWork(task, 'redis wipe', (w) => w.redis.wipe({ downMs: DOWN_MS }));
  });
});
