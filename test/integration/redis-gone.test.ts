import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChatHub } from '../../src/chat/hub.js';
import { AFTER_COMMIT_DEADLINE_MS, afterCommit } from '../../src/commands/dispatch.js';
import type { Storage } from '../../src/db/client.js';
import { checkHealth } from '../../src/http/health.js';
import { type ItemRef, scheduleItem } from '../../src/jobs/items.js';
import { Jobs } from '../../src/jobs/jobs.js';
import type { ItemHandler } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { connectRedis, type RedisHandle } from '../../src/redis/connect.js';
import { closeWithin } from '../../src/redis/deadline.js';
import { Leadership } from '../../src/redis/leadership.js';
import { eventually, firings, recordFiring, sleep, testPrefix } from '../support/jobs.js';
import { PrivateRedis } from '../support/private-redis.js';
import { openTestStorage } from '../support/storage.js';

// The bounded waits, on a redis-server of the test's own (never the shared one) killed with
// SIGKILL: a committed item's enqueue gives up within its deadline and the reconciler queues it
// as soon as Redis answers again; a scrape, a health check and Jobs.close answer in time.

const logger = createLogger('silent');
let redis: PrivateRedis;
let storage: Storage;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  redis = await PrivateRedis.create();
  storage = await openTestStorage();
});
afterEach(async () => {
  await redis.start().catch(() => {});
  for (const clean of cleanups.splice(0).reverse()) await clean().catch(() => {});
});
afterAll(async () => {
  await redis.destroy();
  await storage.close();
});

function makeJobs(handlers: Record<string, ItemHandler>) {
  const metrics = createMetrics();
  const jobs = new Jobs({
    db: storage.db,
    connection: { host: '127.0.0.1', port: redis.port },
    prefix: testPrefix(),
    logger,
    chat: new ChatHub(),
    metrics,
    handlers,
    // Far off: whatever is queued in these tests is queued by Redis answering again.
    reconcileEveryMs: 10 * 60_000,
  });
  cleanups.push(() => jobs.close({ deadlineMs: 2_000 }));
  return { jobs, metrics };
}

const timed = async <T>(work: Promise<T>): Promise<{ ms: number; value: T }> => {
  const started = Date.now();
  const value = await work;
  return { ms: Date.now() - started, value };
};

describe('Redis killed under Jobs', () => {
  it('an enqueue after commit gives up within its deadline; Redis back, the reconciler queues it at once and it fires once', async () => {
    const { jobs, metrics } = makeJobs({ 'test.record': recordFiring });
    await jobs.start();
    jobs.startWorkers();
    await redis.kill();

    const subject = `gone-${randomBytes(3).toString('hex')}`;
    const ref = await scheduleItem(storage.db, {
      kind: 'test.record',
      subject,
      dueAt: new Date(Date.now() + 1_000),
    });
    const enqueue = afterCommit<ItemRef>(
      (items) => jobs.scheduler.enqueue(items),
      logger,
      'enqueue',
    );
    const queued = await timed(enqueue([ref]));
    expect(queued.ms).toBeGreaterThanOrEqual(AFTER_COMMIT_DEADLINE_MS - 20);
    expect(queued.ms).toBeLessThan(AFTER_COMMIT_DEADLINE_MS + 400);

    // A scrape: the depths Redis does not give are left out, in well under a second.
    const scrape = await timed(metrics.registry.metrics());
    expect(scrape.ms).toBeLessThan(1_000);
    expect(scrape.value).not.toMatch(/^concord_queue_depth\{/m);

    await sleep(2_000); // due, and still no Redis
    expect((await firings(storage.db)).get(subject)).toBeUndefined();
    await redis.start();
    // Within seconds, not the reconciler's ten minutes.
    await eventually(async () => (await firings(storage.db)).get(subject) === 1, 15_000, 'firing');
    await sleep(1_500);
    expect((await firings(storage.db)).get(subject)).toBe(1);
    const depth = await metrics.registry.metrics();
    expect(depth).toMatch(/^concord_queue_depth\{queue="concord-scheduled",state="waiting"\} 0/m);
  });

  it('Jobs.close ends within its deadline with a job running and Redis gone', async () => {
    let started = false;
    const { jobs } = makeJobs({
      'test.slow': async () => {
        started = true;
        await sleep(6_000);
        return undefined;
      },
    });
    await jobs.start();
    jobs.startWorkers();
    const ref = await scheduleItem(storage.db, {
      kind: 'test.slow',
      subject: `slow-${randomBytes(3).toString('hex')}`,
      dueAt: new Date(),
    });
    await jobs.scheduler.enqueue([ref]);
    await eventually(async () => started, 10_000, 'the slow job to start');
    await redis.kill();
    const closed = await timed(jobs.close({ deadlineMs: 1_500 }));
    expect(closed.ms).toBeLessThan(2_000);
  });

  it('a health check and a shutdown of every step answer in time', async () => {
    const handle: RedisHandle = await connectRedis(
      { REDIS_URL: redis.url, CONCORD_DATA_DIR: '.unused' },
      logger,
    );
    cleanups.push(() => handle.close());
    const { jobs } = makeJobs({});
    await jobs.start();
    await redis.kill();
    const health = await timed(
      checkHealth([
        { name: 'database', ping: storage.ping },
        { name: 'redis', ping: handle.ping },
      ]),
    );
    expect(health.ms).toBeLessThan(1_000);
    expect(health.value.checks.redis?.status).toBe('down');
    expect(health.value.checks.database?.status).toBe('ok');

    // A step that never ends is forced at its own deadline, and the next step still runs.
    const done: string[] = [];
    const stop = await timed(
      closeWithin(3_000, [
        {
          name: 'stuck',
          ms: 300,
          close: () => new Promise(() => {}),
          force: () => done.push('forced'),
        },
        { name: 'jobs', ms: 2_000, close: () => jobs.close({ deadlineMs: 1_500 }) },
        { name: 'redis', close: () => handle.close().then(() => done.push('redis')) },
      ]),
    );
    expect(stop.value).toEqual(['stuck']);
    expect(done).toEqual(['forced', 'redis']);
    expect(stop.ms).toBeLessThan(2_500);
  });

  it('Leadership.stop ends within its deadline when Redis is gone and the work will not stop', async () => {
    const handle = await connectRedis(
      { REDIS_URL: redis.url, CONCORD_DATA_DIR: '.unused' },
      logger,
    );
    cleanups.push(() => handle.close());
    const leadership = new Leadership(handle.client, `${testPrefix()}:leader`, logger);
    await leadership.start({ lead: async () => {}, follow: () => new Promise(() => {}) });
    expect(leadership.leading).toBe(true);
    await redis.kill();
    const stopped = await timed(leadership.stop({ deadlineMs: 1_000 }));
    expect(stopped.ms).toBeLessThan(1_500);
    expect(leadership.leading).toBe(false);
  });
});
