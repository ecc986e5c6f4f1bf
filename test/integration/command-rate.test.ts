import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPlainText } from '../../src/chat/message.js';
import { channelRef, userRef } from '../../src/chat/refs.js';
import type { Storage } from '../../src/db/client.js';
import { createLogger } from '../../src/log.js';
import { CommandRateGate } from '../../src/redis/command-rate.js';
import { makeTestCore, type TestCore, tableCounts } from '../support/core.js';
import { testPrefix, testRedis } from '../support/jobs.js';
import { openTestStorage } from '../support/storage.js';

// The per-person command limit, counted in Redis: two cores on one database and one Redis stand
// for two Concord instances behind the same endpoint, so a person cannot double their allowance by
// landing on the other one. A refused command gets one line and leaves nothing behind.

const logger = createLogger('silent');
const ALICE = userRef('slack', 'UALICE');
const BOB = userRef('slack', 'UBOB');

let storage: Storage;
let redis: Redis;
let prefix: string;
let instances: TestCore[];
let seq = 0;

beforeAll(async () => {
  storage = await openTestStorage();
  redis = new Redis(testRedis());
  prefix = testPrefix();
  // Two instances, each with a gate of its own over the same keys: 60 a minute, 3 at once.
  instances = await Promise.all(
    [0, 1].map(() => {
      const gate = new CommandRateGate(redis, prefix, { perMinute: 60, burst: 3 }, logger);
      return makeTestCore({
        storage,
        admins: [ALICE, BOB],
        now: 'real',
        admit: (user) => gate.admit(user),
      });
    }),
  );
});

afterAll(async () => {
  for (const key of await redis.keys(`${prefix}:*`)) await redis.del(key);
  redis.disconnect();
  await storage.close();
});

async function send(instance: TestCore, user: string, text = '/concord whoami') {
  const reply = await instance.core.inbound.command({
    deliveryKey: `rate-${++seq}`,
    user: user as ReturnType<typeof userRef>,
    channel: channelRef('slack', 'CGENERAL'),
    text,
  });
  return reply ? renderPlainText(reply.message) : '(no reply)';
}

describe('the per-person command limit', () => {
  it('lets a burst through on either instance, then refuses in one line until the rate allows', async () => {
    const [a, b] = instances as [TestCore, TestCore];
    const replies = [await send(a, ALICE), await send(b, ALICE), await send(a, ALICE)];
    for (const reply of replies) expect(reply).not.toMatch(/faster than/);

    const before = await tableCounts(storage.db);
    // An organisation added by a refused command would be a write: it must not happen.
    const refused = await send(b, ALICE, '/org add code:ZZ name:"Refused Org" kind:delegation');
    expect(refused).toMatch(/^⚠ you are sending commands faster than Concord takes them/);
    expect(refused.split('\n')).toHaveLength(1);
    expect(await tableCounts(storage.db)).toEqual(before);
    expect(
      await a.metrics.registry.getSingleMetricAsString('concord_commands_total'),
    ).not.toContain('throttled');
    expect(await b.metrics.registry.getSingleMetricAsString('concord_commands_total')).toMatch(
      /outcome="throttled"} 1/,
    );

    // Someone else is not held back by Alice's commands.
    expect(await send(a, BOB)).not.toMatch(/faster than/);

    // One interval (a second at 60 a minute) later, one more is let through.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await send(b, ALICE)).not.toMatch(/faster than/);
    expect(await send(a, ALICE)).toMatch(/faster than/);
  });

  it('lets commands through when Redis is out of reach', async () => {
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    down.on('error', () => {});
    const gate = new CommandRateGate(down, prefix, { perMinute: 1, burst: 1 }, logger);
    expect(await gate.admit(ALICE)).toBe(0);
    expect(await gate.admit(ALICE)).toBe(0);
    down.disconnect();
  });

  it('refuses a rate that is no rate', () => {
    expect(() => new CommandRateGate(redis, prefix, { perMinute: 0, burst: 1 }, logger)).toThrow(
      /invalid command rate/,
    );
  });
});
