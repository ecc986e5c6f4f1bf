import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelRef } from '../../src/chat/refs.js';
import type { Storage } from '../../src/db/client.js';
import { deliveries, scheduledItems } from '../../src/db/schema/index.js';
import { scheduleItem } from '../../src/jobs/items.js';
import type { ItemHandler } from '../../src/jobs/worker.js';
import { eventually, type JobsHarness, makeJobsHarness } from '../support/jobs.js';
import { openTestStorage } from '../support/storage.js';

// Reminders whose posts must wait their turn under a platform's limit: the scheduled worker does
// not sit out those waits in its few slots. A post whose turn is over a second away takes no turn
// and goes to the delivery queue for then; every item fires at once, every post arrives once.

const OPS = channelRef('shell', '#ops');
const INTERVAL_MS = 1_500;

const postToOps: ItemHandler = async ({ item, deliver }) => {
  await deliver({
    key: `remind/${item.id}`,
    mode: 'channel',
    target: OPS,
    message: { title: item.subject },
  });
  return undefined;
};

let storage: Storage;
let jobs: JobsHarness;
beforeEach(async () => {
  storage = await openTestStorage();
  jobs = makeJobsHarness(storage.db, { handlers: { 'test.post': postToOps } });
  // One post per 1.5 s to #ops, none at once beyond the first.
  jobs.chat.paceRates = () => [{ key: `${jobs.prefix}:#ops`, intervalMs: INTERVAL_MS, burst: 1 }];
});
afterEach(async () => {
  await jobs.close();
  await storage.close();
});

describe('reminders paced by their platform', () => {
  it('all fire at once; the posts beyond a second away go to the queue, and arrive once each', async () => {
    const due = new Date(Date.now() + 300);
    const refs = await storage.db.transaction(async (tx) =>
      Promise.all(
        ['r1', 'r2', 'r3'].map((subject) =>
          scheduleItem(tx, { kind: 'test.post', subject, dueAt: due }),
        ),
      ),
    );
    // One slot, so a wait sat out inline would hold up the next reminder's firing.
    jobs.startWorker({ pacer: jobs.jobs.pacer, chat: jobs.hub, concurrency: 1 });
    jobs.startDeliveryWorker({ pacer: jobs.jobs.pacer });
    await jobs.scheduler.enqueue(refs);

    await eventually(
      async () =>
        (await storage.db.select().from(scheduledItems)).every((item) => item.status === 'done'),
      5_000,
      'every reminder fired',
    );
    const fired = await storage.db.select().from(scheduledItems);
    for (const item of fired) {
      // Fired within a moment of the due time, not one and two intervals later.
      expect((item.firedAt?.getTime() ?? 0) - due.getTime()).toBeLessThan(INTERVAL_MS - 300);
    }

    await eventually(async () => jobs.chat.sent.length === 3, 10_000, 'three posts');
    const titles = jobs.chat.sent.map((s) => s.message.title).sort();
    expect(titles).toEqual(['r1', 'r2', 'r3']);
    const arrivals = jobs.chat.sent.map((s) => s.at).sort((a, b) => a - b);
    // The later two waited their turns in the queue, paced a turn apart or more.
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThan(INTERVAL_MS - 200);
    expect((arrivals[2] ?? 0) - (arrivals[1] ?? 0)).toBeGreaterThan(INTERVAL_MS - 200);
    const rows = await storage.db.select().from(deliveries).where(eq(deliveries.status, 'sent'));
    expect(rows).toHaveLength(3);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(jobs.chat.sent).toHaveLength(3);
  });
});
