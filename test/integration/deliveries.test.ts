import type { Worker } from 'bullmq';
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/chat/message.js';
import { type ChannelRef, channelRef, userRef } from '../../src/chat/refs.js';
import type { Storage } from '../../src/db/client.js';
import { deliveries } from '../../src/db/schema/index.js';
import {
  type DeliveryInput,
  RECLAIM_DEAD_EVERY_MS,
  writeDelivery,
} from '../../src/jobs/deliveries.js';
import { createDeliveryWorkers } from '../../src/jobs/delivery-worker.js';
import { scheduleItem } from '../../src/jobs/items.js';
import {
  aliveKey,
  aliveSettlingKey,
  aliveSinceKey,
  Liveness,
  PROCESS_CLAIMANT,
} from '../../src/jobs/liveness.js';
import { Pacer } from '../../src/jobs/pacer.js';
import { postNow } from '../../src/jobs/send-delivery.js';
import type { ItemHandler } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/log.js';
import { eventually, type JobsHarness, makeJobsHarness, sleep } from '../support/jobs.js';
import { openTestStorage } from '../support/storage.js';

let storage: Storage;
let h: JobsHarness;
let workers: Worker[] = [];

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
  await Promise.all(workers.map((w) => w.close()));
  workers = [];
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

/** Delivery workers on the harness's lanes, paced by `pacer` (the harness's Jobs pacer by default). */
function startPacedWorker(pacer: Pacer | null = h.jobs.pacer, logger = createLogger('silent')) {
  workers.push(
    ...createDeliveryWorkers({
      db: storage.db,
      connection: h.connection,
      prefix: h.prefix,
      logger,
      chat: h.hub,
      ...(pacer ? { pacer } : {}),
    }),
  );
}

async function write(input: DeliveryInput): Promise<number> {
  const id = await writeDelivery(storage.db, input);
  if (id === null) throw new Error(`delivery ${input.key} exists already`);
  return id;
}

async function rowOf(id: number) {
  const [row] = await storage.db.select().from(deliveries).where(eq(deliveries.id, id));
  if (!row) throw new Error(`no delivery ${id}`);
  return row;
}

const sentRow = (id: number) => async () => (await rowOf(id)).status === 'sent';
const ops = channelRef('shell', '#ops');
const card = (title: string): ChatMessage => ({ tlp: 'amber', title });

describe('edits and replies anchored on an earlier delivery', () => {
  it('retries an edit while its anchor is still pending, then edits the posted message', async () => {
    startPacedWorker();
    const anchor = await write({
      key: 'card-1',
      mode: 'channel',
      target: ops,
      message: card('Open'),
    });
    const edit = await write({
      key: 'card-1/closed',
      mode: 'edit',
      target: ops,
      anchor: 'card-1',
      message: card('Closed'),
    });
    await h.deliveries.enqueue([edit]);
    await eventually(
      async () => (await rowOf(edit)).lastError?.includes('not posted yet') ?? false,
      5_000,
      'the edit to wait for its anchor',
    );
    expect(await rowOf(edit)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(h.chat.updates).toEqual([]);

    await h.deliveries.enqueue([anchor]);
    await eventually(sentRow(edit), 10_000, 'the retried edit');
    const posted = (await rowOf(anchor)).messageRef;
    expect(posted).toMatch(/^shell:#ops\//);
    expect(h.chat.updates.map((u) => [u.ref, u.message.title])).toEqual([[posted, 'Closed']]);
    expect(await rowOf(edit)).toMatchObject({ attempts: 2, messageRef: null, lastError: null });
    // The edit changed the card; it posted nothing of its own.
    expect(h.chat.sent).toHaveLength(1);
  });

  it('never lets an older edit overwrite a newer one, and skips edits with nothing to edit', async () => {
    startPacedWorker();
    const anchor = await write({
      key: 'card-2',
      mode: 'channel',
      target: ops,
      message: card('Open'),
    });
    await h.deliveries.enqueue([anchor]);
    await eventually(sentRow(anchor), 5_000, 'the card');
    const older = await write({
      key: 'card-2/acked',
      mode: 'edit',
      target: ops,
      anchor: 'card-2',
      message: card('Acknowledged'),
    });
    const newer = await write({
      key: 'card-2/closed',
      mode: 'edit',
      target: ops,
      anchor: 'card-2',
      message: card('Closed'),
    });
    const orphan = await write({
      key: 'card-9/closed',
      mode: 'edit',
      target: ops,
      anchor: 'card-9',
      message: card('Closed'),
    });
    await h.deliveries.enqueue([newer]);
    await eventually(sentRow(newer), 5_000, 'the newer edit');
    await h.deliveries.enqueue([older, orphan]);
    await eventually(
      async () => (await sentRow(older)()) && (await sentRow(orphan)()),
      5_000,
      'the older edit and the orphan',
    );
    expect(h.chat.updates.map((u) => u.message.title)).toEqual(['Closed']);
    expect(await rowOf(older)).toMatchObject({ messageRef: null, attempts: 1 });
    expect(await rowOf(orphan)).toMatchObject({ messageRef: null, attempts: 1 });
  });

  it("replies in the thread of the anchor's message, a direct message's included", async () => {
    startPacedWorker();
    const request = await write({ key: 'req-1', mode: 'channel', target: ops, message: card('Q') });
    const dm = await write({
      key: 'req-1/kadri',
      mode: 'direct',
      target: userRef('shell', 'kadri'),
      message: card('Q'),
    });
    await h.deliveries.enqueue([request, dm]);
    await eventually(
      async () => (await sentRow(request)()) && (await sentRow(dm)()),
      5_000,
      'cards',
    );
    const replies = [
      await write({
        key: 'req-1/a',
        mode: 'reply',
        target: ops,
        anchor: 'req-1',
        message: card('A'),
      }),
      await write({
        key: 'req-1/kadri/a',
        mode: 'reply',
        target: userRef('shell', 'kadri'),
        anchor: 'req-1/kadri',
        message: card('A'),
      }),
    ];
    await h.deliveries.enqueue(replies);
    await eventually(
      async () => (await Promise.all(replies.map((id) => sentRow(id)()))).every(Boolean),
      5_000,
      'both replies',
    );
    const threaded = h.chat.sent.filter((s) => s.thread);
    expect(threaded.map((s) => [s.kind, s.to, s.thread]).sort()).toEqual(
      [
        ['post', 'shell:#ops', (await rowOf(request)).messageRef],
        ['post', 'shell:@kadri', (await rowOf(dm)).messageRef],
      ].sort(),
    );
    expect((await rowOf(replies[0] ?? 0)).messageRef).toBe(
      threaded.find((s) => s.to === 'shell:#ops')?.ref,
    );
  });

  it('fails a reply, with the reason, when its anchor was never posted', async () => {
    startPacedWorker();
    const anchor = await write({ key: 'req-2', mode: 'channel', target: ops, message: card('Q') });
    await storage.db.update(deliveries).set({ status: 'failed' }).where(eq(deliveries.id, anchor));
    const reply = await write({
      key: 'req-2/a',
      mode: 'reply',
      target: ops,
      anchor: 'req-2',
      message: card('A'),
    });
    await h.deliveries.enqueue([reply]);
    await eventually(async () => (await rowOf(reply)).status === 'failed', 5_000, 'the failure');
    expect((await rowOf(reply)).lastError).toMatch(/nothing to reply under: delivery req-2/);
    expect(h.chat.sent).toEqual([]);
  });

  it('refuses to write an edit or a reply without an anchor', async () => {
    await expect(
      writeDelivery(storage.db, { key: 'x', mode: 'edit', target: ops, message: card('x') }),
    ).rejects.toThrow(/needs an anchor/);
  });
});

describe('pacing under the platform limits', () => {
  const tight = (target: ChannelRef | string) => [
    { key: `shell:test:${target}`, intervalMs: 100, burst: 1 },
  ];

  it('spaces sends to one target by its rate, and leaves other targets alone', async () => {
    h.chat.paceRates = (target) => tight(target);
    startPacedWorker();
    const busy = [];
    for (let i = 0; i < 5; i++)
      busy.push(
        await write({ key: `busy-${i}`, mode: 'channel', target: ops, message: card(`${i}`) }),
      );
    const quiet = await write({
      key: 'quiet',
      mode: 'channel',
      target: channelRef('shell', '#quiet'),
      message: card('q'),
    });
    const started = Date.now();
    await h.deliveries.enqueue([...busy, quiet]);
    await eventually(() => allSent(6), 10_000, 'six deliveries');
    const times = h.chat.sent
      .filter((s) => s.to === 'shell:#ops')
      .map((s) => s.at)
      .sort((a, b) => a - b);
    expect(times).toHaveLength(5);
    // One every 100 ms: the fifth goes 400 ms after the first (a few ms early on Redis's clock).
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(390);
    for (let i = 1; i < times.length; i++)
      expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThan(80);
    const quietAt = h.chat.sent.find((s) => s.to === 'shell:#quiet')?.at ?? Infinity;
    expect(quietAt - started).toBeLessThan(300);
  });

  it('paces inline posts too, one target after another in order', async () => {
    h.chat.paceRates = (target) => tight(target);
    const rows = [];
    for (let i = 0; i < 4; i++) {
      const input: DeliveryInput = {
        key: `inline-${i}`,
        mode: 'channel',
        target: ops,
        message: card(`${i}`),
      };
      const id = await writeDelivery(storage.db, input, { claimedAt: new Date() });
      rows.push({ id: id ?? 0, ...input });
    }
    const started = Date.now();
    await postNow(
      {
        db: storage.db,
        chat: h.hub,
        queue: h.deliveries,
        logger: createLogger('silent'),
        pacer: h.jobs.pacer,
      },
      rows,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(h.chat.sent.map((s) => s.message.title)).toEqual(['0', '1', '2', '3']);
    expect(await allSent(4)).toBe(true);
  });

  it('paces edits as updates, under their own limit', async () => {
    const kinds: string[] = [];
    h.chat.paceRates = (target, kind) => {
      kinds.push(`${kind} ${target}`);
      return [];
    };
    startPacedWorker();
    const anchor = await write({
      key: 'card-3',
      mode: 'channel',
      target: ops,
      message: card('Open'),
    });
    await h.deliveries.enqueue([anchor]);
    await eventually(sentRow(anchor), 5_000, 'the card');
    const edit = await write({
      key: 'card-3/x',
      mode: 'edit',
      target: ops,
      anchor: 'card-3',
      message: card('X'),
    });
    await h.deliveries.enqueue([edit]);
    await eventually(sentRow(edit), 5_000, 'the edit');
    expect(kinds).toEqual(['post shell:#ops', 'update shell:#ops']);
  });

  it('sends unpaced, and says so, when the pacer cannot reach Redis', async () => {
    h.chat.paceRates = (target) => tight(target);
    const dead = new Redis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const lines: string[] = [];
    startPacedWorker(
      new Pacer(dead, h.prefix),
      createLogger('warn', { write: (l: string) => lines.push(l) }),
    );
    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        await write({ key: `unpaced-${i}`, mode: 'channel', target: ops, message: card(`${i}`) }),
      );
    await h.deliveries.enqueue(ids);
    await eventually(() => allSent(3), 5_000, 'three deliveries');
    expect(h.chat.sent).toHaveLength(3);
    expect(lines.filter((l) => l.includes('pacing failed; sending unpaced'))).toHaveLength(3);
    dead.disconnect();
  });
});

describe('claims of processes that died', () => {
  const DEAD = 'host-a:101:dead';
  const LIVE = 'host-b:202:live';
  let redis: Redis;

  beforeEach(async () => {
    redis = new Redis(h.connection);
    // The harness's Jobs wrote the first liveness key on this (fresh) prefix; skip the settling
    // period that follows, as if it had been running for a while.
    await eventually(
      async () => (await redis.exists(aliveSinceKey(h.prefix))) === 1,
      2_000,
      'the first liveness key',
    );
    await redis.del(aliveSettlingKey(h.prefix));
  });
  afterEach(async () => {
    await redis.del(aliveSinceKey(h.prefix), aliveSettlingKey(h.prefix));
    redis.disconnect();
  });

  /** Marks a delivery as claimed by `by`, `agoMs` ago, as that process's sender would have. */
  async function claimAs(id: number, by: string, agoMs: number) {
    await storage.db
      .update(deliveries)
      .set({
        status: 'sending',
        claimedBy: by,
        claimedAt: new Date(Date.now() - agoMs),
        attempts: 1,
      })
      .where(eq(deliveries.id, id));
  }

  it('takes back at once a claim whose process is gone, not a live one’s or a recent one', async () => {
    const gone = await write({ key: 'gone', mode: 'channel', target: ops, message: card('1') });
    const live = await write({ key: 'live', mode: 'channel', target: ops, message: card('2') });
    const recent = await write({ key: 'recent', mode: 'channel', target: ops, message: card('3') });
    await claimAs(gone, DEAD, 30_000);
    await claimAs(live, LIVE, 30_000);
    await claimAs(recent, DEAD, 2_000);
    await redis.set(aliveKey(h.prefix, LIVE), '1', 'PX', 15_000);
    h.startDeliveryWorker();

    expect(await h.deliveries.reclaimDead()).toBe(1);
    await eventually(sentRow(gone), 5_000, 'the taken-back delivery');
    expect(await rowOf(gone)).toMatchObject({ attempts: 2, claimedBy: PROCESS_CLAIMANT });
    expect(await rowOf(live)).toMatchObject({ status: 'sending', claimedBy: LIVE });
    expect(await rowOf(recent)).toMatchObject({ status: 'sending', claimedBy: DEAD });
    expect(h.chat.sent.map((s) => s.key)).toEqual(['gone']);
    // Without the liveness rule, the claim timeout (two minutes) would have held all three.
    expect(await h.deliveries.reclaimDead()).toBe(0);
  });

  it('runs the pass every few seconds once Jobs has started', async () => {
    h.startDeliveryWorker();
    await h.jobs.start();
    const id = await write({
      key: 'later',
      mode: 'direct',
      target: userRef('shell', 'ann'),
      message: card('x'),
    });
    await claimAs(id, DEAD, 30_000);
    const started = Date.now();
    await eventually(sentRow(id), 8_000, 'the pass after start');
    expect(Date.now() - started).toBeLessThan(RECLAIM_DEAD_EVERY_MS + 2_000);
  });

  it('leaves claims alone while a missing key proves nothing: a new or wiped Redis', async () => {
    const id = await write({ key: 'wiped', mode: 'channel', target: ops, message: card('w') });
    await claimAs(id, DEAD, 30_000);
    await redis.del(aliveSinceKey(h.prefix));
    expect(await h.deliveries.reclaimDead()).toBe(0);
    // The first renewal after the wipe starts the settling period: every live process rewrites
    // its key within it.
    await new Liveness(redis, h.prefix, createLogger('silent'), LIVE).renew();
    expect(await redis.exists(aliveSettlingKey(h.prefix))).toBe(1);
    expect(await h.deliveries.reclaimDead()).toBe(0);
    await redis.del(aliveSettlingKey(h.prefix));
    expect(await h.deliveries.reclaimDead()).toBe(1);
  });

  it('does not post twice what the dead process posted before marking it sent', async () => {
    const inputs: DeliveryInput[] = [
      { key: 'posted/channel', mode: 'channel', target: ops, message: card('c') },
      {
        key: 'posted/direct',
        mode: 'direct',
        target: userRef('shell', 'kadri'),
        message: card('d'),
      },
    ];
    const refs = new Map<number, string>();
    for (const input of inputs) {
      // Written claimed, to post inline, by the process that then died right after posting.
      const id = (await writeDelivery(storage.db, input, { claimedAt: new Date() })) ?? 0;
      expect((await rowOf(id)).claimedBy).toBe(PROCESS_CLAIMANT);
      refs.set(
        id,
        input.mode === 'direct'
          ? await h.chat.sendDirect(userRef('shell', 'kadri'), input.message, { key: input.key })
          : await h.chat.post(ops, input.message, { key: input.key }),
      );
      await claimAs(id, DEAD, 30_000);
    }
    h.startDeliveryWorker();
    expect(await h.deliveries.reclaimDead()).toBe(2);
    for (const [id, ref] of refs) {
      await eventually(sentRow(id), 5_000, 'the delivery marked sent');
      expect(await rowOf(id)).toMatchObject({ messageRef: ref, attempts: 2 });
    }
    expect(h.chat.sent).toHaveLength(2);
  });

  it('keeps a liveness key while Jobs runs and removes it on close', async () => {
    const other = makeJobsHarness(storage.db);
    const key = aliveKey(other.prefix, PROCESS_CLAIMANT);
    await eventually(async () => (await redis.exists(key)) === 1, 2_000, 'the liveness key');
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(10_000);
    expect(ttl).toBeLessThanOrEqual(15_000);
    await other.close();
    expect(await redis.exists(key)).toBe(0);
    await redis.del(aliveSinceKey(other.prefix), aliveSettlingKey(other.prefix));
  });
});
