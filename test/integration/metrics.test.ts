import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatFailure } from '../../src/chat/errors.js';
import { ChatHub } from '../../src/chat/hub.js';
import { userRef } from '../../src/chat/refs.js';
import type { Storage } from '../../src/db/client.js';
import { deliveries } from '../../src/db/schema/index.js';
import { scheduleItem } from '../../src/jobs/items.js';
import { Jobs } from '../../src/jobs/jobs.js';
import type { ItemHandler } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/log.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { eventually, testPrefix, testRedis } from '../support/jobs.js';
import { MemoryChat } from '../support/memory-chat.js';
import { openTestStorage } from '../support/storage.js';

// /metrics for operators (issue 6's observability, started here): deliveries by outcome, 429s,
// escalations, scheduled lateness and queue depth, counted by the real workers on real Redis.

let storage: Storage;
let jobs: Jobs;
let metrics: Metrics;
let slack: MemoryChat;

// Each firing sends one direct message, as an escalation or a reminder does.
const directMessage: ItemHandler = async ({ item, deliver }) => {
  await deliver({
    key: `${item.kind}/${item.id}`,
    mode: 'direct',
    target: userRef('slack', 'UBOB'),
    message: { title: item.subject },
  });
  return undefined;
};

beforeEach(async () => {
  storage = await openTestStorage();
  metrics = createMetrics();
  slack = new MemoryChat('slack');
  const chat = new ChatHub();
  chat.register(slack);
  jobs = new Jobs({
    db: storage.db,
    connection: testRedis(),
    prefix: testPrefix(),
    logger: createLogger('silent'),
    chat,
    metrics,
    handlers: { 'assist.escalate': directMessage, 'forum.reminder': directMessage },
  });
});

afterEach(async () => {
  await jobs.scheduler.queue.obliterate({ force: true }).catch(() => {});
  await jobs.deliveries.obliterate().catch(() => {});
  await jobs.close();
  await storage.close();
});

const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('/metrics from the workers', () => {
  it('counts deliveries by outcome, 429s, escalations and lateness, and reads queue depths', async () => {
    // The first post is refused with a 429: the delivery goes back to the queue and is sent later.
    slack.failOn('sendDirect', () => ChatFailure.rateLimited('429 from the platform', 50), 1);
    const due = new Date(Date.now() - 1000);
    const items = await storage.db.transaction(async (tx) => [
      await scheduleItem(tx, { kind: 'assist.escalate', subject: 'AR-2026-1/ACME', dueAt: due }),
      await scheduleItem(tx, { kind: 'forum.reminder', subject: 'FS-2026-1/1h', dueAt: due }),
    ]);
    const before = await metrics.registry.metrics();
    expect(value(before, 'concord_queue_depth{queue="concord-scheduled",state="waiting"}')).toBe(0);
    await jobs.scheduler.enqueue(items);
    jobs.startWorkers();
    await eventually(
      async () =>
        (
          await storage.db
            .select({ status: deliveries.status })
            .from(deliveries)
            .where(eq(deliveries.status, 'sent'))
        ).length === 2,
      15_000,
      'both messages sent',
    );
    const text = await metrics.registry.metrics();
    const sent = 'concord_deliveries_total{platform="slack",mode="direct",outcome="sent"}';
    expect(value(text, sent)).toBe(2);
    expect(
      value(
        text,
        'concord_deliveries_total{platform="slack",mode="direct",outcome="rate_limited"}',
      ),
    ).toBe(1);
    expect(value(text, 'concord_platform_rate_limited_total{platform="slack"}')).toBe(1);
    expect(value(text, 'concord_escalations_total{kind="assist.escalate"}')).toBe(1);
    expect(text).not.toContain('concord_escalations_total{kind="forum.reminder"}');
    expect(value(text, 'concord_scheduled_lateness_seconds_count{kind="forum.reminder"}')).toBe(1);
    // Fired about a second after their due time: in the bucket up to 2.5 s, not the one up to 0.5.
    expect(
      value(text, 'concord_scheduled_lateness_seconds_bucket{le="2.5",kind="assist.escalate"}'),
    ).toBe(1);
    expect(
      value(text, 'concord_scheduled_lateness_seconds_bucket{le="0.5",kind="assist.escalate"}'),
    ).toBe(0);
    for (const queue of ['concord-scheduled', 'concord-deliveries-slack']) {
      expect(value(text, `concord_queue_depth{queue="${queue}",state="waiting"}`)).toBe(0);
    }
  }, 30_000);
});
