import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import type { ChatHub } from '../chat/hub.js';
import type { ChatMessage } from '../chat/message.js';
import type { ChannelRef, UserRef } from '../chat/refs.js';
import type { Database, Queryable } from '../db/client.js';
import { deliveries } from '../db/schema/deliveries.js';
import type { Logger } from '../log.js';
import { bullConnection } from './connection.js';
import { JOB_OPTIONS } from './scheduler.js';

export const DELIVERY_QUEUE = 'concord-deliveries';

export interface DeliveryInput {
  /** Unique per message and recipient, e.g. `item-12-1/shell:@kadri`: deciding twice sends once. */
  key: string;
  mode: 'channel' | 'direct';
  target: ChannelRef | UserRef;
  message: ChatMessage;
}

/** Writes a delivery in the caller's transaction; returns its id, or null if the key exists. */
export async function writeDelivery(
  tx: Queryable,
  input: DeliveryInput,
  options: { claimedAt?: Date } = {},
): Promise<number | null> {
  const claimed = options.claimedAt
    ? { status: 'sending' as const, claimedAt: options.claimedAt, attempts: 1 }
    : {};
  const [row] = await tx
    .insert(deliveries)
    .values({
      key: input.key,
      mode: input.mode,
      target: input.target,
      message: input.message,
      ...claimed,
    })
    .onConflictDoNothing({ target: deliveries.key })
    .returning({ id: deliveries.id });
  return row?.id ?? null;
}

const jobIdOf = (id: number) => `delivery-${id}`;
const JobData = z.object({ deliveryId: z.number().int().positive() });

export interface DeliveryQueueOptions {
  db: Database;
  connection: RedisOptions;
  prefix: string;
  logger: Logger;
  /** A claim older than this is from a process that died mid-post; it is tried again. */
  claimTimeoutMs?: number;
}

export const DEFAULT_CLAIM_TIMEOUT_MS = 120_000;

/** The queue side of the outbox: enqueue after commit, and reconcile what Redis lost. */
export class DeliveryQueue {
  readonly queue: Queue;

  constructor(private readonly options: DeliveryQueueOptions) {
    this.queue = new Queue(DELIVERY_QUEUE, {
      connection: bullConnection(options.connection),
      prefix: options.prefix,
    });
    this.queue.on('error', (err) =>
      options.logger.warn({ err: err.message }, 'delivery queue error'),
    );
  }

  /** Queues deliveries; `delayMs` makes the jobs a backstop for a sender that posts them now. */
  async enqueue(ids: readonly number[], delayMs = 0): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      await this.queue.addBulk(
        ids.slice(i, i + 1000).map((id) => ({
          name: 'delivery',
          data: { deliveryId: id },
          opts: { ...JOB_OPTIONS, jobId: jobIdOf(id), ...(delayMs > 0 ? { delay: delayMs } : {}) },
        })),
      );
    }
  }

  /** Frees claims of dead processes and re-adds every open delivery; returns how many. */
  async reconcile(now = new Date()): Promise<number> {
    const timeout = this.options.claimTimeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS;
    await this.options.db
      .update(deliveries)
      .set({ status: 'pending' })
      .where(
        and(
          eq(deliveries.status, 'sending'),
          lt(deliveries.claimedAt, new Date(now.getTime() - timeout)),
        ),
      );
    const open = await this.options.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(eq(deliveries.status, 'pending'));
    await this.enqueue(open.map((r) => r.id));
    return open.length;
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export interface DeliveryWorkerOptions extends DeliveryQueueOptions {
  chat: ChatHub;
  concurrency?: number;
  onSent?: (id: number) => void;
}

/**
 * Claims one delivery (pending → sending), posts it through the chat port and marks it sent.
 * 'stale' when there was nothing to claim: sent already, or claimed by someone else. A failure
 * puts it back to pending (or failed, on the `last` attempt or when its platform is not running)
 * and is rethrown.
 */
export async function sendDelivery(
  db: Database,
  chat: ChatHub,
  id: number,
  options: { last: boolean },
): Promise<'sent' | 'stale'> {
  const [row] = await db
    .update(deliveries)
    .set({ status: 'sending', claimedAt: new Date(), attempts: sql`${deliveries.attempts} + 1` })
    .where(and(eq(deliveries.id, id), eq(deliveries.status, 'pending')))
    .returning({
      id: deliveries.id,
      mode: deliveries.mode,
      target: deliveries.target,
      message: deliveries.message,
    });
  if (!row) return 'stale';
  await postClaimed(db, chat, row, options);
  return 'sent';
}

/**
 * Posts a delivery this process has claimed and marks it sent; on failure puts it back to
 * pending (or failed, on the `last` attempt or when its platform is not running) and rethrows.
 */
export async function postClaimed(
  db: Database,
  chat: ChatHub,
  row: { id: number; mode: 'channel' | 'direct'; target: string; message: ChatMessage },
  options: { last: boolean },
): Promise<void> {
  try {
    let port: ReturnType<ChatHub['for']>;
    try {
      port = chat.for(row.target as ChannelRef);
    } catch (err) {
      throw new UnrecoverableError(err instanceof Error ? err.message : String(err));
    }
    const ref =
      row.mode === 'channel'
        ? await port.post(row.target as ChannelRef, row.message)
        : await port.sendDirect(row.target as UserRef, row.message);
    await db
      .update(deliveries)
      .set({ status: 'sent', sentAt: new Date(), messageRef: ref, lastError: null })
      .where(eq(deliveries.id, row.id));
  } catch (err) {
    const last = options.last || err instanceof UnrecoverableError;
    await db
      .update(deliveries)
      .set({
        status: last ? 'failed' : 'pending',
        lastError: (err instanceof Error ? err.message : String(err)).slice(0, 500),
      })
      .where(eq(deliveries.id, row.id));
    throw err;
  }
}

/**
 * Posts deliveries through the chat port. A row is claimed (pending → sending) before the post
 * and marked sent after it, so a duplicate or replayed job finds nothing to claim. The one window
 * left is a crash between a successful post and that update (one database round trip): the
 * claim then times out and the message is posted again. Platforms with idempotency keys close
 * it in their adapters.
 */
export function createDeliveryWorker(options: DeliveryWorkerOptions): Worker {
  const { db, chat } = options;
  const worker = new Worker(
    DELIVERY_QUEUE,
    async (job) => {
      const parsed = JobData.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`job ${job.id} carries no delivery id`);
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const outcome = await sendDelivery(db, chat, parsed.data.deliveryId, { last });
      if (outcome === 'sent') options.onSent?.(parsed.data.deliveryId);
      return outcome;
    },
    {
      connection: bullConnection(options.connection),
      prefix: options.prefix,
      concurrency: options.concurrency ?? 16,
    },
  );
  worker.on('error', (err) => options.logger.warn({ err: err.message }, 'delivery worker error'));
  return worker;
}
