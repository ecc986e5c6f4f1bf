import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelRef, userRef } from '../../src/chat/refs.js';
import type { Storage } from '../../src/db/client.js';
import { deliveries } from '../../src/db/schema/index.js';
import { writeDelivery } from '../../src/jobs/deliveries.js';
import { scheduleItem } from '../../src/jobs/items.js';
import type { ItemHandler } from '../../src/jobs/worker.js';
import { eventually, type JobsHarness, makeJobsHarness, sleep } from '../support/jobs.js';
import { openTestStorage } from '../support/storage.js';

let storage: Storage;
let h: JobsHarness;

const announce: ItemHandler = async ({ item, deliver }) => {
  const message = { tlp: 'green' as const, title: `Reminder ${item.subject}` };
  await deliver({
    key: `${item.subject}/channel`,
    mode: 'channel',
    target: channelRef('shell', '#forum'),
    message,
  });
  for (const who of ['kadri', 'ann']) {
    await deliver({
      key: `${item.subject}/${who}`,
      mode: 'direct',
      target: userRef('shell', who),
      message,
    });
  }
  return undefined;
};

beforeEach(async () => {
  storage = await openTestStorage();
  h = makeJobsHarness(storage.db, { handlers: { 'test.announce': announce } });
});
afterEach(async () => {
  await h.close();
  await storage.close();
});

const allSent = async (n: number) =>
  (await storage.db.select().from(deliveries).where(eq(deliveries.status, 'sent'))).length === n;

describe('the outbox: messages decided in a transaction, posted through the chat port', () => {
  it('posts what a firing decided, once each, and records the message references', async () => {
    h.startWorker();
    h.startDeliveryWorker();
    const ref = await storage.db.transaction((tx) =>
      scheduleItem(tx, {
        kind: 'test.announce',
        subject: 'FS-1/1h',
        dueAt: new Date(Date.now() + 200),
      }),
    );
    await h.scheduler.enqueue([ref]);
    await eventually(() => allSent(3), 5_000, 'three deliveries');
    expect(h.chat.sent.map((s) => `${s.kind} ${s.to}`).sort()).toEqual([
      'direct shell:ann',
      'direct shell:kadri',
      'post shell:#forum',
    ]);
    const rows = await storage.db.select().from(deliveries);
    expect(rows.every((r) => r.messageRef?.startsWith('shell:') && r.attempts === 1)).toBe(true);
  });

  it('sends once when the same delivery is decided twice', async () => {
    h.startDeliveryWorker();
    const ids = await storage.db.transaction(async (tx) => [
      await writeDelivery(tx, {
        key: 'k1',
        mode: 'direct',
        target: userRef('shell', 'kadri'),
        message: { body: 'hi' },
      }),
      await writeDelivery(tx, {
        key: 'k1',
        mode: 'direct',
        target: userRef('shell', 'kadri'),
        message: { body: 'hi' },
      }),
    ]);
    expect(ids[1]).toBeNull();
    await h.deliveries.enqueue([ids[0] ?? 0, ids[0] ?? 0]);
    await eventually(() => allSent(1), 5_000, 'the delivery');
    await sleep(300);
    expect(h.chat.sent).toHaveLength(1);
  });

  it('retries a platform failure and sends once it recovers', async () => {
    h.chat.failNext = 2;
    h.startDeliveryWorker();
    const id = await writeDelivery(storage.db, {
      key: 'k2',
      mode: 'channel',
      target: channelRef('shell', '#ops'),
      message: { body: 'x' },
    });
    await h.deliveries.enqueue([id ?? 0]);
    await eventually(() => allSent(1), 15_000, 'the third attempt');
    expect(h.chat.sent).toHaveLength(1);
    const [row] = await storage.db.select().from(deliveries);
    expect(row).toMatchObject({ attempts: 3, status: 'sent' });
  });

  it('reconciles what Redis never heard of, and claims left by a dead process', async () => {
    h.startDeliveryWorker();
    const lost = await writeDelivery(storage.db, {
      key: 'lost',
      mode: 'channel',
      target: channelRef('shell', '#ops'),
      message: { body: 'lost' },
    });
    const claimed = await writeDelivery(storage.db, {
      key: 'claimed',
      mode: 'channel',
      target: channelRef('shell', '#ops'),
      message: { body: 'claimed' },
    });
    // A process claimed this one ten minutes ago and died before posting.
    await storage.db
      .update(deliveries)
      .set({ status: 'sending', claimedAt: new Date(Date.now() - 600_000) })
      .where(eq(deliveries.id, claimed ?? 0));
    expect(lost).not.toBeNull();
    expect(await h.deliveries.reconcile()).toBe(2);
    await eventually(() => allSent(2), 5_000, 'both deliveries');
    expect(h.chat.sent.map((s) => s.message.body).sort()).toEqual(['claimed', 'lost']);
  });

  it('fails at once, with the reason, a delivery for a platform that is not running', async () => {
    h.startDeliveryWorker();
    const id = await writeDelivery(storage.db, {
      key: 'k3',
      mode: 'direct',
      target: userRef('slack', 'U1'),
      message: { body: 'x' },
    });
    await h.deliveries.enqueue([id ?? 0]);
    await eventually(
      async () => (await storage.db.select().from(deliveries))[0]?.status === 'failed',
      5_000,
      'the failure',
    );
    const [row] = await storage.db.select().from(deliveries);
    expect(row).toMatchObject({ attempts: 1, lastError: 'no slack adapter is running' });
  });

  it('a worker with the chat hub posts at once, and a failed post falls back to the queue', async () => {
    h.startWorker({ chat: h.hub });
    h.startDeliveryWorker();
    h.chat.failNext = 1;
    const ref = await storage.db.transaction((tx) =>
      scheduleItem(tx, {
        kind: 'test.announce',
        subject: 'FS-2/1h',
        dueAt: new Date(Date.now() + 200),
      }),
    );
    await h.scheduler.enqueue([ref]);
    await eventually(() => allSent(3), 10_000, 'three deliveries');
    await sleep(300);
    expect(h.chat.sent).toHaveLength(3);
    const rows = await storage.db.select().from(deliveries);
    // Two went out inline on the first attempt; the one that failed was retried by the queue.
    expect(rows.map((r) => r.attempts).sort()).toEqual([1, 1, 2]);
  });
});
