import { Queue } from 'bullmq';
import { and, asc, eq, lte } from 'drizzle-orm';
import type { RedisOptions } from 'ioredis';
import type { Database } from '../db/client.js';
import { scheduledItems } from '../db/schema/scheduled.js';
import type { Logger } from '../log.js';
import { bullConnection } from './connection.js';
import { type ItemRef, jobIdOf } from './items.js';

export const SCHEDULED_QUEUE = 'concord-scheduled';

export interface SchedulerOptions {
  db: Database;
  connection: RedisOptions;
  /** Redis key prefix: one per deployment, one per test. */
  prefix: string;
  logger: Logger;
  clock?: () => Date;
  /** Items due within this window are kept in Redis; later ones wait in Postgres. */
  horizonMs?: number;
}

export const DEFAULT_HORIZON_MS = 60 * 60_000;

/**
 * Jobs become ready this much before their item is due, and the worker waits out the rest on a
 * local timer: BullMQ's promotion of delayed jobs then happens before the due time, not after.
 */
export const ENQUEUE_LEAD_MS = 50;

export const JOB_OPTIONS = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 1_000 },
  // The row keeps the outcome. Removing finished jobs frees their ids, so the reconciler can
  // re-add a job for a row that is still pending, and the worker will find out what to do.
  removeOnComplete: true,
  removeOnFail: true,
} as const;

/**
 * Puts scheduled items on the BullMQ queue. Postgres stays the source of truth: a job is only
 * `(id, generation)` with a deterministic id, so adding it twice is harmless, and `reconcile`
 * can re-add everything that is due and missing after a restart or a wiped Redis.
 */
export class Scheduler {
  readonly queue: Queue;
  private readonly clock: () => Date;
  private readonly horizonMs: number;

  constructor(private readonly options: SchedulerOptions) {
    this.queue = new Queue(SCHEDULED_QUEUE, {
      connection: bullConnection(options.connection),
      prefix: options.prefix,
    });
    this.queue.on('error', (err) =>
      options.logger.warn({ err: err.message }, 'scheduler queue error'),
    );
    this.clock = options.clock ?? (() => new Date());
    this.horizonMs = options.horizonMs ?? DEFAULT_HORIZON_MS;
  }

  /** Adds jobs for items due within the horizon; later ones are left to the reconciler. */
  async enqueue(refs: readonly ItemRef[]): Promise<void> {
    const now = this.clock().getTime();
    const soon = refs.filter((r) => r.dueAt.getTime() <= now + this.horizonMs);
    if (soon.length === 0) return;
    await this.queue.addBulk(
      soon.map((ref) => ({
        name: 'item',
        data: { itemId: ref.id, generation: ref.generation },
        opts: {
          ...JOB_OPTIONS,
          jobId: jobIdOf(ref),
          delay: Math.max(0, ref.dueAt.getTime() - now - ENQUEUE_LEAD_MS),
        },
      })),
    );
  }

  /** Re-adds every pending item due within the horizon; returns how many were considered. */
  async reconcile(): Promise<number> {
    const until = new Date(this.clock().getTime() + this.horizonMs);
    const rows = await this.options.db
      .select({
        id: scheduledItems.id,
        generation: scheduledItems.generation,
        dueAt: scheduledItems.dueAt,
      })
      .from(scheduledItems)
      .where(and(eq(scheduledItems.status, 'pending'), lte(scheduledItems.dueAt, until)))
      .orderBy(asc(scheduledItems.dueAt));
    for (let i = 0; i < rows.length; i += 1000) await this.enqueue(rows.slice(i, i + 1000));
    return rows.length;
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
