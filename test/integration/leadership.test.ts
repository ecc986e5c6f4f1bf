import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import { Leadership, type LeadershipHooks } from '../../src/redis/leadership.js';
import { testPrefix, testRedis } from '../support/jobs.js';

// The claim that gives one process of several the Discord gateway, on real Redis, with short
// timings: one holder at a time, a successor when the holder stops or dies, a claim taken back
// after a wipe, and a holder that keeps its work while Redis does not answer.

const logger = createLogger('silent');
const TIMING = { ttlMs: 600, refreshMs: 100 };
const clients: Redis[] = [];
const leaderships: Leadership[] = [];
afterEach(async () => {
  await Promise.all(leaderships.splice(0).map((l) => l.stop()));
  for (const c of clients.splice(0)) c.disconnect();
});

/** A process's claim, with a count of how often its work started and stopped. */
function contender(key: string, claimant: string) {
  const redis = new Redis(testRedis());
  clients.push(redis);
  const leadership = new Leadership(redis, key, logger, { ...TIMING, claimant });
  leaderships.push(leadership);
  const counts = { led: 0, followed: 0 };
  const hooks: LeadershipHooks = {
    lead: async () => {
      counts.led++;
    },
    follow: async () => {
      counts.followed++;
    },
  };
  return { redis, leadership, counts, start: () => leadership.start(hooks) };
}

const leaders = (...cs: { leadership: Leadership }[]) =>
  cs.filter((c) => c.leadership.leading).length;

describe('leadership', () => {
  it('has one holder among three, and a successor within the ttl when it stops', async () => {
    const key = `${testPrefix()}:leader`;
    const cs = ['a', 'b', 'c'].map((name) => contender(key, name));
    await Promise.all(cs.map((c) => c.start()));
    expect(leaders(...cs)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(leaders(...cs)).toBe(1);
    const holder = cs.find((c) => c.leadership.leading);
    await holder?.leadership.stop();
    expect(holder?.counts).toEqual({ led: 1, followed: 1 });
    const rest = cs.filter((c) => c !== holder);
    // Released on stop: the next try of another takes it.
    await vi.waitFor(() => expect(leaders(...rest)).toBe(1), { timeout: 1_000, interval: 20 });
  });

  it('passes to another once a dead holder’s claim expires', async () => {
    const key = `${testPrefix()}:leader`;
    const a = contender(key, 'a');
    await a.start();
    expect(a.leadership.leading).toBe(true);
    // "Dies": stops renewing without giving the claim up (its Redis connection goes).
    a.redis.disconnect();
    const b = contender(key, 'b');
    await b.start();
    expect(b.leadership.leading).toBe(false);
    const started = Date.now();
    await vi.waitFor(() => expect(b.leadership.leading).toBe(true), {
      timeout: 2_000,
      interval: 20,
    });
    expect(Date.now() - started).toBeLessThan(TIMING.ttlMs + TIMING.refreshMs + 200);
    // Meanwhile the cut-off holder keeps its work: nobody could be sure it had stopped.
    expect(a.counts.followed).toBe(0);
  });

  it('takes the claim back after a wipe, and steps down if another got it first', async () => {
    const key = `${testPrefix()}:leader`;
    const a = contender(key, 'a');
    await a.start();
    await a.redis.del(key);
    await vi.waitFor(async () => expect(await a.redis.get(key)).toBe('a'), {
      timeout: 1_000,
      interval: 20,
    });
    expect(a.counts).toEqual({ led: 1, followed: 0 });
    // Another process's name where ours was (a wipe, then someone quicker).
    await a.redis.set(key, 'z', 'PX', 5_000);
    await vi.waitFor(() => expect(a.leadership.leading).toBe(false), {
      timeout: 1_000,
      interval: 20,
    });
    expect(a.counts).toEqual({ led: 1, followed: 1 });
    await a.redis.del(key);
  });

  it('gives the claim up when its work does not start, so another may try', async () => {
    const key = `${testPrefix()}:leader`;
    const redis = new Redis(testRedis());
    clients.push(redis);
    const failing = new Leadership(redis, key, logger, { ...TIMING, claimant: 'f' });
    leaderships.push(failing);
    await failing.start({
      lead: async () => {
        throw new Error('gateway refused the login');
      },
      follow: async () => {},
    });
    expect(failing.leading).toBe(false);
    expect(await redis.get(key)).toBeNull();
  });
});
