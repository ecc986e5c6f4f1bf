import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pacer, type Rate } from '../../src/jobs/pacer.js';
import { TEST_REDIS_URL } from '../support/env.js';

// Pacing under platform limits, on the real Redis every process shares.

let redis: Redis;
let other: Redis;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  other = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await Promise.all([redis.quit(), other.quit()]);
});

const freshPrefix = () => `test-pace-${randomBytes(4).toString('hex')}`;
// Redis's clock moves while a test runs: slots are compared with this much slack.
const SLACK_MS = 40;

describe('Pacer', () => {
  it('lets a burst through at once, then one send per interval', async () => {
    const pacer = new Pacer(redis, freshPrefix());
    const channel: Rate = { key: 'slack:C1', intervalMs: 1000, burst: 3 };
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) waits.push(await pacer.reserve([channel]));
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    for (const [i, wait] of waits.slice(3).entries()) {
      expect(wait).toBeGreaterThan((i + 1) * 1000 - SLACK_MS);
      expect(wait).toBeLessThanOrEqual((i + 1) * 1000);
    }
  });

  it('waits for the strictest of several limits, and counts the send against each', async () => {
    const pacer = new Pacer(redis, freshPrefix());
    const workspace: Rate = { key: 'slack:workspace', intervalMs: 200, burst: 2 };
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      waits.push(
        await pacer.reserve([{ key: `slack:C${i}`, intervalMs: 1000, burst: 1 }, workspace]),
      );
    }
    // Four channels, one send each: only the workspace's limit holds them back.
    expect(waits.slice(0, 2)).toEqual([0, 0]);
    expect(waits[2]).toBeGreaterThan(200 - SLACK_MS);
    expect(waits[3]).toBeGreaterThan(400 - SLACK_MS);
    expect(waits[3]).toBeLessThanOrEqual(400);
  });

  it('reserves nothing when the turn is further off than the caller would wait', async () => {
    const pacer = new Pacer(redis, freshPrefix());
    const channel: Rate = { key: 'slack:C1', intervalMs: 1000, burst: 1 };
    expect(await pacer.reserveWithin([channel], 500)).toEqual({ waitMs: 0, reserved: true });
    const refused = await pacer.reserveWithin([channel], 500);
    expect(refused.reserved).toBe(false);
    expect(refused.waitMs).toBeGreaterThan(1000 - SLACK_MS);
    // The refused caller took no slot: the next one gets the very turn it was offered.
    const next = await pacer.reserveWithin([channel], -1);
    expect(next.reserved).toBe(true);
    expect(next.waitMs).toBeLessThanOrEqual(1000);
    expect(next.waitMs).toBeGreaterThan(1000 - SLACK_MS);
  });

  it('keeps one busy channel from delaying another', async () => {
    const pacer = new Pacer(redis, freshPrefix());
    const busy: Rate = { key: 'discord:busy', intervalMs: 1000, burst: 1 };
    for (let i = 0; i < 5; i++) await pacer.reserve([busy]);
    expect(await pacer.reserve([{ key: 'discord:quiet', intervalMs: 1000, burst: 1 }])).toBe(0);
    expect(await pacer.reserve([busy])).toBeGreaterThan(4000 - SLACK_MS);
  });

  it('gives every caller, in any process, a slot of its own', async () => {
    const prefix = freshPrefix();
    const pacers = [new Pacer(redis, prefix), new Pacer(other, prefix)];
    const rate: Rate = { key: 'discord:global', intervalMs: 20, burst: 1 };
    const waits = await Promise.all(
      Array.from({ length: 100 }, (_, i) => pacers[i % 2]?.reserve([rate]) ?? Promise.resolve(-1)),
    );
    const slots = waits.sort((a, b) => a - b);
    // One slot every 20 ms, none shared: the last is about 99 intervals out.
    for (let i = 1; i < slots.length; i++) {
      expect(slots[i] as number).toBeGreaterThan((slots[i - 1] as number) + 20 - SLACK_MS);
    }
    expect(slots.at(-1)).toBeGreaterThan(99 * 20 - SLACK_MS * 2);
  });

  it('refuses a rate that paces nothing', async () => {
    const pacer = new Pacer(redis, freshPrefix());
    await expect(pacer.reserve([{ key: 'x', intervalMs: 0, burst: 1 }])).rejects.toThrow(
      /invalid rate for x/,
    );
    await expect(pacer.reserve([{ key: 'x', intervalMs: 10, burst: 0 }])).rejects.toThrow(
      /invalid rate/,
    );
  });
});
