import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import type { ChatHub } from '../chat/hub.js';
import type { ChatMessage } from '../chat/message.js';
import type { ChatPort } from '../chat/port.js';
import type { ChannelRef, MessageRef, UserRef } from '../chat/refs.js';
import type { Database, Queryable } from '../db/client.js';
import { type DeliveryMode, deliveries } from '../db/schema/deliveries.js';
import type { Logger } from '../log.js';
import { bullConnection } from './connection.js';
import type { Pacer } from './pacer.js';
import { JOB_OPTIONS } from './scheduler.js';

export const DELIVERY_QUEUE = 'concord-deliveries';

export interface DeliveryInput {
  /** Unique per message and recipient, e.g. `item-12-1/shell:@kadri`: deciding twice sends once. */
  key: string;
  /**
   * `channel` posts in the channel `target`, `direct` sends to the user `target`; `update` edits
   * the copy of `source` that an earlier relay posted in the channel `target`; `edit` edits, and
   * `reply` posts in the thread of, the message the delivery keyed `anchor` posted.
   */
  mode: DeliveryMode;
  target: ChannelRef | UserRef;
  message: ChatMessage;
  /** A relay: the message this copies and the channel it came from. */
  source?: MessageRef;
  sourceChannel?: ChannelRef;
  /** A relayed thread reply: post under the counterpart of this message in `target`. */
  threadOf?: MessageRef;
  /** For `edit` and `reply`: the key of the delivery whose posted message this acts on. */
  anchor?: string;
}

/** A claimed delivery, as the sender needs it. */
export type DeliveryRow = { id: number } & DeliveryInput;

/** Writes a delivery in the caller's transaction; returns its id, or null if the key exists. */
export async function writeDelivery(
  tx: Queryable,
  input: DeliveryInput,
  options: { claimedAt?: Date } = {},
): Promise<number | null> {
  if ((input.mode === 'edit' || input.mode === 'reply') && !input.anchor)
    throw new Error(`a delivery in ${input.mode} mode needs an anchor: ${input.key}`);
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
      anchor: input.anchor ?? null,
      ...claimed,
    })
    .onConflictDoNothing({ target: deliveries.key })
    .returning({ id: deliveries.id });
  return row?.id ?? null;
}

const deliveryRowColumns = {
  id: deliveries.id,
  key: deliveries.key,
  mode: deliveries.mode,
  target: deliveries.target,
  message: deliveries.message,
  source: deliveries.source,
  sourceChannel: deliveries.sourceChannel,
  threadOf: deliveries.threadOf,
  anchor: deliveries.anchor,
};

function toDeliveryRow(row: {
  id: number;
  key: string;
  mode: DeliveryMode;
  target: string;
  message: ChatMessage;
  source: string | null;
  sourceChannel: string | null;
  threadOf: string | null;
  anchor: string | null;
}): DeliveryRow {
  return {
    id: row.id,
    key: row.key,
    mode: row.mode,
    target: row.target as ChannelRef,
    message: row.message,
    ...(row.source ? { source: row.source as MessageRef } : {}),
    ...(row.sourceChannel ? { sourceChannel: row.sourceChannel as ChannelRef } : {}),
    ...(row.threadOf ? { threadOf: row.threadOf as MessageRef } : {}),
    ...(row.anchor ? { anchor: row.anchor } : {}),
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

/**
 * The message the delivery keyed `anchor` posted, for an `edit` or `reply` to act on. Null when
 * there is none: the anchor failed, was never written, or posted nothing. Throws while it is
 * still on its way, so the caller is retried rather than dropped.
 */
async function anchoredMessage(db: Queryable, row: DeliveryRow): Promise<MessageRef | null> {
  if (!row.anchor) throw new UnrecoverableError(`delivery ${row.id} (${row.mode}) has no anchor`);
  const [anchor] = await db
    .select({ status: deliveries.status, messageRef: deliveries.messageRef })
    .from(deliveries)
    .where(eq(deliveries.key, row.anchor));
  if (!anchor || anchor.status === 'failed') return null;
  if (anchor.status === 'sent') return (anchor.messageRef as MessageRef | null) ?? null;
  throw new CounterpartPendingError(`delivery ${row.anchor} is not posted yet`);
}

/**
 * Whether a later edit of the same anchor has gone out already: then this older one must not
 * overwrite it. (No index covers `anchor`; the lookup scans, which is fine while the outbox is
 * small.) Two edits of one anchor sending at the very same moment can still land out of order.
 */
async function supersededEdit(db: Queryable, row: DeliveryRow): Promise<boolean> {
  const [later] = await db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.anchor, row.anchor ?? ''),
        eq(deliveries.mode, 'edit'),
        gt(deliveries.id, row.id),
        eq(deliveries.status, 'sent'),
      ),
    )
    .limit(1);
  return later !== undefined;
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
  /** Paces every send under its platform's limits (`ChatPort.rates`); without it, none is. */
  pacer?: Pacer;
  concurrency?: number;
  onSent?: (id: number) => void;
}

/** How one send is made: whether it is the last attempt, and what paces it. */
export interface SendOptions {
  last: boolean;
  pacer?: Pacer;
  /** Where a failing pacer is reported. */
  logger?: Logger;
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
  options: SendOptions,
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

// A claim is refreshed this often while its send waits for its turn, so a wait longer than the
// claim timeout is not mistaken for a dead process (which would post the message twice).
const CLAIM_REFRESH_MS = 20_000;

/**
 * Waits for this send's turn under the port's limits; returns the wait in ms. A pacer that fails
 * (Redis down) is logged and the send goes unpaced: a 429 costs a retry, a lost message more.
 *
 * The wait is slept here, holding the worker slot (or, inline, the caller). A wait of more than
 * a few seconds (a backlog for one Slack channel, at one message a second) wastes that slot; the
 * delivery worker's concurrency is sized so such sleepers do not hold up other targets. Handing
 * the job back to the queue instead would free the slot but lose the reserved turn.
 */
async function waitTurn(
  db: Database,
  port: ChatPort,
  row: DeliveryRow,
  target: ChannelRef | UserRef,
  kind: 'post' | 'update',
  options: SendOptions,
): Promise<number> {
  if (!options.pacer) return 0;
  let wait: number;
  try {
    wait = await options.pacer.reserve(port.rates?.(target, kind) ?? []);
  } catch (err) {
    options.logger?.warn(
      { deliveryId: row.id, err: err instanceof Error ? err.message : String(err) },
      'pacing failed; sending unpaced',
    );
    return 0;
  }
  for (let left = wait; left > 0; left -= CLAIM_REFRESH_MS) {
    await sleep(Math.min(left, CLAIM_REFRESH_MS));
    if (left > CLAIM_REFRESH_MS) {
      await db
        .update(deliveries)
        .set({ claimedAt: new Date() })
        .where(and(eq(deliveries.id, row.id), eq(deliveries.status, 'sending')));
    }
  }
  return wait;
}

/** Makes the platform call a claimed delivery stands for; returns the posted message, if any. */
async function send(
  db: Database,
  port: ChatPort,
  row: DeliveryRow,
  options: SendOptions,
): Promise<MessageRef | null> {
  const turn = (target: ChannelRef | UserRef, kind: 'post' | 'update') =>
    waitTurn(db, port, row, target, kind, options);
  switch (row.mode) {
    case 'direct':
      await turn(row.target, 'post');
      return port.sendDirect(row.target as UserRef, row.message);
    case 'channel': {
      const target = row.target as ChannelRef;
      const thread = row.threadOf ? await counterpartOf(db, row.threadOf, target) : null;
      await turn(target, 'post');
      return port.post(target, row.message, thread ? { thread } : {});
    }
    case 'update': {
      // An edit of a message whose copy never made it (or predates the bridge) has nothing to edit.
      const copy = row.source
        ? await counterpartOf(db, row.source, row.target as ChannelRef)
        : null;
      if (!copy) return null;
      await turn(row.target, 'update');
      await port.update(copy, row.message);
      return null;
    }
    case 'edit': {
      const anchored = await anchoredMessage(db, row);
      if (!anchored || (await supersededEdit(db, row))) return null;
      // A newer edit may have gone out while this one waited its turn.
      const waited = await turn(port.channelOf(anchored), 'update');
      if (waited > 0 && (await supersededEdit(db, row))) return null;
      await port.update(anchored, row.message);
      return null;
    }
    case 'reply': {
      const anchored = await anchoredMessage(db, row);
      if (!anchored) {
        throw new UnrecoverableError(
          `nothing to reply under: delivery ${row.anchor} posted nothing`,
        );
      }
      const channel = port.channelOf(anchored);
      await turn(channel, 'post');
      return port.post(channel, row.message, { thread: anchored });
    }
  }
}

/**
 * Posts a delivery this process has claimed and marks it sent; on failure puts it back to
 * pending (or failed, on the `last` attempt or when its platform is not running) and rethrows.
 * With a pacer, the platform call waits its turn under the port's limits first.
 */
export async function postClaimed(
  db: Database,
  chat: ChatHub,
  row: DeliveryRow,
  options: SendOptions,
): Promise<void> {
  try {
    let port: ChatPort;
    try {
      port = chat.for(row.target);
    } catch (err) {
      throw new UnrecoverableError(err instanceof Error ? err.message : String(err));
    }
    const ref = await send(db, port, row, options);
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
 * a reminder or a relayed message reaches the platform at once (paced, with a pacer). Posts to
 * one target go one after another, in order; different targets go side by side. A failed post
 * goes to the delivery queue for its retries.
 */
export async function postNow(
  deps: { db: Database; chat: ChatHub; queue: DeliveryQueue; logger: Logger; pacer?: Pacer },
  rows: readonly DeliveryRow[],
): Promise<void> {
  const options = {
    last: false,
    logger: deps.logger,
    ...(deps.pacer ? { pacer: deps.pacer } : {}),
  };
  const byTarget = new Map<string, DeliveryRow[]>();
  for (const row of rows) byTarget.set(row.target, [...(byTarget.get(row.target) ?? []), row]);
  await Promise.all(
    [...byTarget.values()].map(async (queue) => {
      for (const row of queue) {
        await postClaimed(deps.db, deps.chat, row, options).catch(async (err: unknown) => {
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

// Jobs mostly wait: on the platform, and on their turn under its limits, asleep in their slot.
// When every slot holds a sleeper for one busy target, every other target waits behind them, so
// the slots must outnumber a busy channel's backlog. Measured against the fake Slack (60 posts to
// one channel queued ahead of 1 post to each of 20 others): the 20 were all posted after 43 s
// with 16 slots, 27 s with 32, 1.7 s with 64, 128 or 256. A plain fan-out (250 channels, one post
// each) took 1.1 s with 16 slots and 0.8 s with 64 or 128; 500 Discord posts took 10.6 s (the
// global pace) with 16 or 64. Slots cost next to nothing while asleep; a backlog beyond this many
// for one channel still holds up the rest.
export const DEFAULT_DELIVERY_CONCURRENCY = 128;

/**
 * Posts deliveries through the chat port. A row is claimed (pending → sending) before the post
 * and marked sent after it, so a duplicate or replayed job finds nothing to claim. The one window
 * left is a crash between a successful post and that update (one database round trip): the
 * claim then times out and the message is posted again. Platforms with idempotency keys close
 * it in their adapters.
 */
export function createDeliveryWorker(options: DeliveryWorkerOptions): Worker {
  const { db, chat, pacer, logger } = options;
  const worker = new Worker(
    DELIVERY_QUEUE,
    async (job) => {
      const parsed = JobData.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`job ${job.id} carries no delivery id`);
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const outcome = await sendDelivery(db, chat, parsed.data.deliveryId, {
        last,
        logger,
        ...(pacer ? { pacer } : {}),
      });
      if (outcome === 'sent') options.onSent?.(parsed.data.deliveryId);
      return outcome;
    },
    {
      connection: bullConnection(options.connection),
      prefix: options.prefix,
      concurrency: options.concurrency ?? DEFAULT_DELIVERY_CONCURRENCY,
    },
  );
  worker.on('error', (err) => options.logger.warn({ err: err.message }, 'delivery worker error'));
  return worker;
}
