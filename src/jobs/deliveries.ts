import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import type { ChatHub } from '../chat/hub.js';
import type { ChatMessage } from '../chat/message.js';
import type { ChannelRef, MessageRef, UserRef } from '../chat/refs.js';
import type { Database, Queryable } from '../db/client.js';
import { type DeliveryMode, deliveries } from '../db/schema/deliveries.js';
import type { Logger } from '../log.js';
import { bullConnection } from './connection.js';
import { JOB_OPTIONS } from './scheduler.js';

export const DELIVERY_QUEUE = 'concord-deliveries';

export interface DeliveryInput {
  /** Unique per message and recipient, e.g. `item-12-1/shell:@kadri`: deciding twice sends once. */
  key: string;
  /** `update` edits the copy of `source` that an earlier relay posted in the channel `target`. */
  mode: DeliveryMode;
  target: ChannelRef | UserRef;
  message: ChatMessage;
  /** A relay: the message this copies and the channel it came from. */
  source?: MessageRef;
  sourceChannel?: ChannelRef;
  /** A relayed thread reply: post under the counterpart of this message in `target`. */
  threadOf?: MessageRef;
}

/** A claimed delivery, as the sender needs it. */
export type DeliveryRow = { id: number } & DeliveryInput;

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
      source: input.source ?? null,
      sourceChannel: input.sourceChannel ?? null,
      threadOf: input.threadOf ?? null,
      ...claimed,
    })
    .onConflictDoNothing({ target: deliveries.key })
    .returning({ id: deliveries.id });
  return row?.id ?? null;
}

const deliveryRowColumns = {
  id: deliveries.id,
  mode: deliveries.mode,
  target: deliveries.target,
  message: deliveries.message,
  source: deliveries.source,
  sourceChannel: deliveries.sourceChannel,
  threadOf: deliveries.threadOf,
};

function toDeliveryRow(row: {
  id: number;
  mode: DeliveryMode;
  target: string;
  message: ChatMessage;
  source: string | null;
  sourceChannel: string | null;
  threadOf: string | null;
}): DeliveryRow {
  return {
    id: row.id,
    key: '',
    mode: row.mode,
    target: row.target as ChannelRef,
    message: row.message,
    ...(row.source ? { source: row.source as MessageRef } : {}),
    ...(row.sourceChannel ? { sourceChannel: row.sourceChannel as ChannelRef } : {}),
    ...(row.threadOf ? { threadOf: row.threadOf as MessageRef } : {}),
  };
}

/** Thrown while a relayed parent is still on its way: the delivery is retried, not dropped. */
export class CounterpartPendingError extends Error {
  override readonly name = 'CounterpartPendingError';
}

/**
 * The message in `channel` that stands for `ref` across a bridge: the copy of `ref` relayed into
 * `channel`, or, when `ref` is itself a copy, the original it was copied from in `channel`. Null
 * when there is none (a message from before the bridge); throws while the copy is being sent.
 */
export async function counterpartOf(
  db: Queryable,
  ref: MessageRef,
  channel: ChannelRef,
): Promise<MessageRef | null> {
  const [copy] = await db
    .select({ status: deliveries.status, messageRef: deliveries.messageRef })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.source, ref),
        eq(deliveries.target, channel),
        eq(deliveries.mode, 'channel'),
      ),
    );
  if (copy) {
    if (copy.status === 'sent' && copy.messageRef) return copy.messageRef as MessageRef;
    if (copy.status === 'failed') return null;
    throw new CounterpartPendingError(`the copy of ${ref} in ${channel} is not posted yet`);
  }
  const [original] = await db
    .select({ source: deliveries.source })
    .from(deliveries)
    .where(and(eq(deliveries.messageRef, ref), eq(deliveries.sourceChannel, channel)));
  return (original?.source as MessageRef | undefined) ?? null;
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
    .returning(deliveryRowColumns);
  if (!row) return 'stale';
  await postClaimed(db, chat, toDeliveryRow(row), options);
  return 'sent';
}

/**
 * Posts a delivery this process has claimed and marks it sent; on failure puts it back to
 * pending (or failed, on the `last` attempt or when its platform is not running) and rethrows.
 */
export async function postClaimed(
  db: Database,
  chat: ChatHub,
  row: DeliveryRow,
  options: { last: boolean },
): Promise<void> {
  try {
    let port: ReturnType<ChatHub['for']>;
    try {
      port = chat.for(row.target);
    } catch (err) {
      throw new UnrecoverableError(err instanceof Error ? err.message : String(err));
    }
    let ref: MessageRef | null = null;
    if (row.mode === 'direct') ref = await port.sendDirect(row.target as UserRef, row.message);
    else if (row.mode === 'channel') {
      const thread = row.threadOf
        ? await counterpartOf(db, row.threadOf, row.target as ChannelRef)
        : null;
      ref = await port.post(row.target as ChannelRef, row.message, thread ? { thread } : {});
    } else if (row.source) {
      // An edit of a message whose copy never made it (or predates the bridge) has nothing to edit.
      const copy = await counterpartOf(db, row.source, row.target as ChannelRef);
      if (copy) await port.update(copy, row.message);
    }
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
 * Posts deliveries this process claimed when it wrote them, without a trip through the queue, so
 * a reminder or a relayed message reaches the platform at once. Posts to one target go one after
 * another, in order; different targets go side by side. A failed post goes to the delivery queue
 * for its retries.
 */
export async function postNow(
  deps: { db: Database; chat: ChatHub; queue: DeliveryQueue; logger: Logger },
  rows: readonly DeliveryRow[],
): Promise<void> {
  const byTarget = new Map<string, DeliveryRow[]>();
  for (const row of rows) byTarget.set(row.target, [...(byTarget.get(row.target) ?? []), row]);
  await Promise.all(
    [...byTarget.values()].map(async (queue) => {
      for (const row of queue) {
        await postClaimed(deps.db, deps.chat, row, { last: false }).catch(async (err: unknown) => {
          deps.logger.warn(
            { deliveryId: row.id, err: err instanceof Error ? err.message : String(err) },
            'inline delivery failed; the queue retries it',
          );
          await deps.queue.enqueue([row.id]).catch(() => {});
        });
      }
    }),
  );
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
