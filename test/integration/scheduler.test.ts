import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/db/client.js';
import { scheduledItems } from '../../src/db/schema/index.js';
import { cancelItems, jobIdOf, scheduleItem } from '../../src/jobs/items.js';
import { ENQUEUE_LEAD_MS } from '../../src/jobs/scheduler.js';
import { eventually, firings, type JobsHarness, makeJobsHarness, sleep } from '../support/jobs.js';
import { openTestStorage } from '../support/storage.js';

let storage: Storage;
let jobs: JobsHarness;
beforeEach(async () => {
  storage = await openTestStorage();
  jobs = makeJobsHarness(storage.db);
});
afterEach(async () => {
  await jobs.close();
  await storage.close();
});

const inMs = (ms: number) => new Date(Date.now() + ms);

async function schedule(subject: string, dueAt: Date) {
  const ref = await storage.db.transaction((tx) =>
    scheduleItem(tx, { kind: 'test.record', subject, dueAt }),
  );
  await jobs.scheduler.enqueue([ref]);
  return ref;
}

async function row(subject: string) {
  const [item] = await storage.db
    .select()
    .from(scheduledItems)
    .where(eq(scheduledItems.subject, subject));
  if (!item) throw new Error(`no item ${subject}`);
  return item;
}

describe('the scheduling core, against real Redis and Postgres', () => {
  it('fires each item once, at its instant (real time, seconds ahead)', async () => {
    jobs.startWorker();
    const due = { a: inMs(800), b: inMs(1600), c: inMs(2200) };
    for (const [subject, at] of Object.entries(due)) await schedule(subject, at);
    await eventually(async () => (await firings(storage.db)).size === 3, 8_000, 'three firings');
    for (const [subject, at] of Object.entries(due)) {
      const item = await row(subject);
      expect(item.status).toBe('done');
      const late = (item.firedAt?.getTime() ?? 0) - at.getTime();
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(500);
    }
    expect([...(await firings(storage.db)).values()]).toEqual([1, 1, 1]);
  });

  it('never fires a cancelled item, nor the old job of a rescheduled one', async () => {
    jobs.startWorker();
    const moved = await schedule('moved', inMs(500));
    await schedule('cancelled', inMs(500));
    const again = await schedule('moved', inMs(1500));
    expect(again.generation).toBe(moved.generation + 1);
    expect(await jobs.scheduler.queue.getJob(jobIdOf(moved))).toBeDefined();
    await storage.db.transaction((tx) => cancelItems(tx, 'test.record', 'cancelled'));

    await sleep(1000);
    expect((await firings(storage.db)).get('moved')).toBeUndefined();
    await eventually(
      async () => (await firings(storage.db)).get('moved') === 1,
      5_000,
      'the rescheduled firing',
    );
    const item = await row('moved');
    expect(item.firedAt?.getTime()).toBeGreaterThanOrEqual(again.dueAt.getTime());
    expect((await row('cancelled')).status).toBe('cancelled');
    await sleep(300);
    expect(await firings(storage.db)).toEqual(new Map([['moved', 1]]));
  });

  it('two workers on one queue fire each of 300 simultaneous items exactly once', async () => {
    const counts = { first: 0, second: 0 };
    jobs.startWorker({ onFired: () => counts.first++ });
    jobs.startWorker({ onFired: () => counts.second++ });
    const at = inMs(1000);
    const refs = await storage.db.transaction(async (tx) => {
      const out = [];
      for (let i = 0; i < 300; i++)
        out.push(await scheduleItem(tx, { kind: 'test.record', subject: `s${i}`, dueAt: at }));
      return out;
    });
    await jobs.scheduler.enqueue(refs);
    await jobs.scheduler.enqueue(refs); // a duplicate enqueue is harmless
    await eventually(async () => (await firings(storage.db)).size === 300, 15_000, '300 firings');
    await sleep(300);
    const fired = await firings(storage.db);
    expect([...fired.values()].every((n) => n === 1)).toBe(true);
    expect(counts.first + counts.second).toBe(300);
    expect(counts.first).toBeGreaterThan(0);
    expect(counts.second).toBeGreaterThan(0);
  });

  it('retries a failing handler with backoff and fires once it succeeds', async () => {
    let calls = 0;
    jobs.startWorker({
      handlers: {
        'test.record': async (ctx) => {
          calls++;
          if (calls < 3) throw new Error(`transient ${calls}`);
          const { recordFiring } = await import('../support/jobs.js');
          return recordFiring(ctx);
        },
      },
    });
    await schedule('flaky', inMs(100));
    await eventually(
      async () => (await firings(storage.db)).get('flaky') === 1,
      15_000,
      'the third attempt',
    );
    const item = await row('flaky');
    expect(item).toMatchObject({ status: 'done', attempts: 2, lastError: 'transient 2' });
  });

  it('marks an item of an unknown kind failed instead of retrying it forever', async () => {
    jobs.startWorker();
    const ref = await storage.db.transaction((tx) =>
      scheduleItem(tx, { kind: 'test.nobody', subject: 'x', dueAt: inMs(50) }),
    );
    await jobs.scheduler.enqueue([ref]);
    await eventually(async () => (await row('x')).status === 'failed', 5_000, 'failure');
    expect((await row('x')).lastError).toBe('no handler for test.nobody');
  });

  it('keeps far items in Postgres only, and the reconciler enqueues them as they come near', async () => {
    let now = Date.now();
    const near = makeJobsHarness(storage.db, { horizonMs: 60_000, clock: () => new Date(now) });
    try {
      const ref = await storage.db.transaction((tx) =>
        scheduleItem(tx, {
          kind: 'test.record',
          subject: 'far',
          dueAt: new Date(now + 3 * 60_000),
        }),
      );
      await near.scheduler.enqueue([ref]);
      expect(await near.scheduler.queue.getJob(jobIdOf(ref))).toBeUndefined();
      now += 2.5 * 60_000;
      expect(await near.scheduler.reconcile()).toBe(1);
      const job = await near.scheduler.queue.getJob(jobIdOf(ref));
      expect(job?.data).toEqual({ itemId: ref.id, generation: ref.generation });
      expect(job?.opts.delay).toBe(30_000 - ENQUEUE_LEAD_MS);
    } finally {
      await near.close();
    }
  });
});
