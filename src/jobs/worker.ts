import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { and, eq, sql } from 'drizzle-orm';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import type { ChatHub } from '../chat/hub.js';
import type { Database, Transaction } from '../db/client.js';
import { scheduledItems } from '../db/schema/scheduled.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { bullConnection } from './connection.js';
import {
  type DeliveryInput,
  type DeliveryQueue,
  type DeliveryRow,
  writeDelivery,
} from './deliveries.js';
import { type ItemRef, type ScheduledItem, type ScheduleInput, scheduleItem } from './items.js';
import type { Pacer } from './pacer.js';
import { ENQUEUE_LEAD_MS, SCHEDULED_QUEUE, type Scheduler } from './scheduler.js';
import { postNow } from './send-delivery.js';

/** What a handler gets: the locked row, the time, and its transaction. */
export interface FireContext {
  tx: Transaction;
  item: ScheduledItem;
  now: Date;
  /** Schedules another item in this transaction; it is enqueued once the transaction commits. */
  schedule(input: ScheduleInput): Promise<ItemRef>;
  /** Writes a message to the outbox in this transaction; it is posted once the transaction commits. */
  deliver(input: DeliveryInput): Promise<void>;
}

/** Nothing: the item is done. `{ again }`: it recurs, with a new generation, at that time. */
export type FireOutcome = undefined | { again: Date };

/**
 * Does what the item is for, inside the transaction that marks it done: whatever it writes
 * (deliveries, audit rows, follow-up items) lands exactly when the item is marked fired.
 */
export type ItemHandler = (ctx: FireContext) => Promise<FireOutcome>;

export interface FireResult {
  outcome: 'fired' | 'stale' | 'early' | 'failed';
  lateMs?: number;
}

const JobData = z.object({
  itemId: z.number().int().positive(),
  generation: z.number().int().positive(),
});

// BullMQ promotes delayed jobs by Redis's clock, ours by Node's; on one machine they agree to a
// few milliseconds. A job this much early still fires; earlier than that it is delayed again.
const EARLY_TOLERANCE_MS = 25;

export interface ScheduledWorkerOptions {
  db: Database;
  connection: RedisOptions;
  prefix: string;
  scheduler: Scheduler;
  deliveries: DeliveryQueue;
  /** With a chat hub, the worker posts a firing's deliveries itself, right after it commits. */
  chat?: ChatHub;
  /** Paces those inline posts under the platforms' limits, as the delivery worker does. */
  pacer?: Pacer;
  handlers: Readonly<Record<string, ItemHandler>>;
  logger: Logger;
  clock?: () => Date;
  concurrency?: number;
  /** How long a job is locked before another worker may take it over (stalled). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  onFired?: (item: ScheduledItem, lateMs: number) => void;
  /** Observes each firing's lateness, and counts escalations (`*.escalate` items). */
  metrics?: Metrics;
}

/**
 * The worker for scheduled items. It acts only on a row that is still pending, of the same
 * generation, and due, under a row lock, and records the outcome in the same transaction. So a
 * stale, duplicated or replayed job does nothing, and two workers never fire one item twice.
 */
export function createScheduledWorker(options: ScheduledWorkerOptions): Worker {
  const clock = options.clock ?? (() => new Date());
  const worker = new Worker(
    SCHEDULED_QUEUE,
    async (job: Job, token?: string) => {
      await waitOutLead(job);
      const result = await fireItem(options, clock, job);
      if (result.outcome === 'early' && result.dueAt) {
        await job.moveToDelayed(result.dueAt.getTime(), token);
        throw new DelayedError();
      }
      return result.outcome;
    },
    {
      connection: bullConnection(options.connection),
      prefix: options.prefix,
      concurrency: options.concurrency ?? 16,
      ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
      ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
    },
  );
  worker.on('error', (err) => options.logger.warn({ err: err.message }, 'scheduled worker error'));
  worker.on('failed', (job, err) => {
    if (!job || err instanceof DelayedError) return;
    options.logger.warn(
      { jobId: job.id, attempts: job.attemptsMade, err: err.message },
      'scheduled item failed',
    );
  });
  return worker;
}

async function deliverNow(options: ScheduledWorkerOptions, rows: DeliveryRow[]): Promise<void> {
  const { chat } = options;
  if (!chat) {
    await options.deliveries.enqueue(rows);
    return;
  }
  // A reminder whose platform's turn is seconds away goes to the delivery queue for then, rather
  // than holding one of the few worker slots every other due item needs meanwhile.
  await postNow(
    { ...options, chat, queue: options.deliveries, longestWaitMs: INLINE_WAIT_MS },
    rows,
  );
}

/** The longest a scheduled job waits, inline, for its post's turn under the platform's limits. */
export const INLINE_WAIT_MS = 1_000;

/** A job made ready ENQUEUE_LEAD_MS early sleeps until its intended time (never longer). */
async function waitOutLead(job: Job): Promise<void> {
  const delay = job.opts.delay ?? 0;
  if (delay <= 0) return;
  const wait = job.timestamp + delay + ENQUEUE_LEAD_MS - Date.now();
  if (wait > 0 && wait <= ENQUEUE_LEAD_MS)
    await new Promise((resolve) => setTimeout(resolve, wait));
}

async function fireItem(
  options: ScheduledWorkerOptions,
  clock: () => Date,
  job: Job,
): Promise<FireResult & { dueAt?: Date }> {
  const parsed = JobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`job ${job.id} carries no item reference`);
  const { itemId, generation } = parsed.data;
  const followUps: ItemRef[] = [];
  const outbox: DeliveryRow[] = [];
  let fired: { item: ScheduledItem; lateMs: number } | undefined;
  try {
    const result = await options.db.transaction(
      async (tx): Promise<FireResult & { dueAt?: Date }> => {
        const [item] = await tx
          .select()
          .from(scheduledItems)
          .where(eq(scheduledItems.id, itemId))
          .for('update');
        if (item?.status !== 'pending' || item.generation !== generation)
          return { outcome: 'stale' };
        const now = clock();
        if (item.dueAt.getTime() - now.getTime() > EARLY_TOLERANCE_MS)
          return { outcome: 'early', dueAt: item.dueAt };
        const handler = options.handlers[item.kind];
        if (!handler) {
          await tx
            .update(scheduledItems)
            .set({ status: 'failed', lastError: `no handler for ${item.kind}`, updatedAt: now })
            .where(eq(scheduledItems.id, item.id));
          return { outcome: 'failed' };
        }
        const outcome = await handler({
          tx,
          item,
          now,
          schedule: async (input) => {
            const ref = await scheduleItem(tx, input);
            followUps.push(ref);
            return ref;
          },
          deliver: async (input) => {
            // Posting inline: the row is written already claimed, saving a round trip and a
            // commit per message. If this process dies before posting, the claim times out and
            // the reconciler hands the message to the delivery queue.
            const id = await writeDelivery(tx, input, options.chat ? { claimedAt: now } : {});
            if (id !== null) outbox.push({ id, ...input });
          },
        });
        if (outcome?.again) {
          const [next] = await tx
            .update(scheduledItems)
            .set({
              dueAt: outcome.again,
              generation: sql`${scheduledItems.generation} + 1`,
              firedAt: now,
              attempts: 0,
              lastError: null,
              updatedAt: now,
            })
            .where(eq(scheduledItems.id, item.id))
            .returning({
              id: scheduledItems.id,
              generation: scheduledItems.generation,
              dueAt: scheduledItems.dueAt,
            });
          if (next) followUps.push(next);
        } else {
          await tx
            .update(scheduledItems)
            .set({ status: 'done', firedAt: now, updatedAt: now })
            .where(eq(scheduledItems.id, item.id));
        }
        const lateMs = now.getTime() - item.dueAt.getTime();
        fired = { item, lateMs };
        return { outcome: 'fired', lateMs };
      },
    );
    if (fired) {
      options.onFired?.(fired.item, fired.lateMs);
      const kind = fired.item.kind;
      options.metrics?.lateness.observe({ kind }, Math.max(0, fired.lateMs) / 1000);
      if (kind.endsWith('.escalate')) options.metrics?.escalations.inc({ kind });
    }
    if (followUps.length > 0) await options.scheduler.enqueue(followUps);
    if (outbox.length > 0) await deliverNow(options, outbox);
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const last =
      job.attemptsMade + 1 >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
    // Outside the failed transaction: count the attempt, and give up on the row after the last.
    await options.db
      .update(scheduledItems)
      .set({
        attempts: sql`${scheduledItems.attempts} + 1`,
        lastError: message.slice(0, 500),
        ...(last ? { status: 'failed' as const } : {}),
        updatedAt: clock(),
      })
      .where(
        and(
          eq(scheduledItems.id, itemId),
          eq(scheduledItems.generation, generation),
          eq(scheduledItems.status, 'pending'),
        ),
      )
      .catch(() => {});
    throw err;
  }
}
