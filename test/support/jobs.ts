import { randomBytes } from 'node:crypto';
import type { Worker } from 'bullmq';
import { and, eq } from 'drizzle-orm';
import type { RedisOptions } from 'ioredis';
import { ChatHub } from '../../src/chat/hub.js';
import type { Database } from '../../src/db/client.js';
import { auditLog } from '../../src/db/schema/index.js';
import { recordAudit } from '../../src/domain/audit.js';
import { type DeliveryQueue, writeDelivery } from '../../src/jobs/deliveries.js';
import { createDeliveryWorkers } from '../../src/jobs/delivery-worker.js';
import type { ScheduledItem } from '../../src/jobs/items.js';
import { Jobs } from '../../src/jobs/jobs.js';
import type { Pacer } from '../../src/jobs/pacer.js';
import type { Scheduler } from '../../src/jobs/scheduler.js';
import {
  createScheduledWorker,
  type ItemHandler,
  type ScheduledWorkerOptions,
} from '../../src/jobs/worker.js';
import { createLogger } from '../../src/log.js';
import { TEST_REDIS_URL } from './env.js';
import { RecordingChat } from './recording-chat.js';

export const testRedis = (): RedisOptions => {
  const url = new URL(TEST_REDIS_URL);
  return { host: url.hostname, port: Number(url.port || 6379) };
};

export const testPrefix = () => `concord-test-${process.pid}-${randomBytes(3).toString('hex')}`;

/** A handler whose effect is one audit row per firing, written in the firing's transaction. */
export const recordFiring: ItemHandler = async ({ tx, item, now }) => {
  await recordAudit(tx, {
    actor: 'scheduler',
    action: 'test.fired',
    subject: item.subject,
    detail: { at: now.toISOString() },
  });
  return undefined;
};

/** How many times each subject fired, from the audit rows `recordFiring` wrote. */
export async function firings(db: Database): Promise<Map<string, number>> {
  const rows = await db
    .select({ subject: auditLog.subject })
    .from(auditLog)
    .where(and(eq(auditLog.action, 'test.fired')));
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.subject, (counts.get(r.subject) ?? 0) + 1);
  return counts;
}

export interface JobsHarness {
  jobs: Jobs;
  scheduler: Scheduler;
  deliveries: DeliveryQueue;
  chat: RecordingChat;
  /** The hub around `chat`, for workers that post inline. */
  hub: ChatHub;
  prefix: string;
  connection: RedisOptions;
  /** A scheduled-items worker; several may run on the same queue. */
  startWorker(overrides?: Partial<ScheduledWorkerOptions>): Worker;
  /** The delivery workers, one per platform lane (paced with `pacer`). */
  startDeliveryWorker(overrides?: { pacer?: Pacer }): Worker[];
  close(): Promise<void>;
}

export function makeJobsHarness(
  db: Database,
  options: {
    connection?: RedisOptions;
    horizonMs?: number;
    reconcileEveryMs?: number;
    clock?: () => Date;
    handlers?: Record<string, ItemHandler>;
  } = {},
): JobsHarness {
  const connection = options.connection ?? testRedis();
  const prefix = testPrefix();
  const logger = createLogger('silent');
  const chat = new RecordingChat();
  const hub = new ChatHub();
  hub.register(chat);
  const handlers = { 'test.record': recordFiring, ...options.handlers };
  const jobs = new Jobs({ db, connection, prefix, logger, chat: hub, ...options, handlers });
  const workers: Worker[] = [];
  return {
    jobs,
    scheduler: jobs.scheduler,
    deliveries: jobs.deliveries,
    chat,
    hub,
    prefix,
    connection,
    startWorker(overrides = {}) {
      const worker = createScheduledWorker({
        db,
        connection,
        prefix,
        scheduler: jobs.scheduler,
        deliveries: jobs.deliveries,
        handlers,
        logger,
        ...overrides,
      });
      workers.push(worker);
      return worker;
    },
    startDeliveryWorker(overrides = {}) {
      const lanes = createDeliveryWorkers({
        db,
        connection,
        prefix,
        logger,
        chat: hub,
        ...overrides,
      });
      workers.push(...lanes);
      return lanes;
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await jobs.scheduler.queue.obliterate({ force: true }).catch(() => {});
      await jobs.deliveries.obliterate().catch(() => {});
      await jobs.close();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, or fails after `timeoutMs`. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * Runs a handler on its item in a transaction, as the worker would, with its deliveries written
 * to the outbox (and nothing else scheduled): for tests of what a handler decides at a given time.
 */
export async function fireDirectly(
  db: Database,
  handler: ItemHandler,
  item: ScheduledItem,
  now: Date,
) {
  return db.transaction((tx) =>
    handler({
      tx,
      item,
      now,
      schedule: async () => {
        throw new Error('this handler was not expected to schedule anything');
      },
      deliver: async (input) => {
        await writeDelivery(tx, input);
      },
    }),
  );
}
