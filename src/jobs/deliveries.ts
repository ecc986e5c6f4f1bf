import { Queue } from 'bullmq';
import { and, eq, inArray, isNotNull, lt } from 'drizzle-orm';
import type { RedisOptions } from 'ioredis';
import type { ChatMessage } from '../chat/message.js';
import type { ChannelRef, MessageRef, UserRef } from '../chat/refs.js';
import type { Database, Queryable } from '../db/client.js';
import { type DeliveryMode, deliveries } from '../db/schema/deliveries.js';
import type { Logger } from '../log.js';
import { bullConnection } from './connection.js';
import { deadClaimants, type ExistsClient, PROCESS_CLAIMANT } from './liveness.js';
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

/**
 * A claimed delivery, as the sender needs it. `attempts` (this claim included) and `createdAt`
 * come with a row claimed from the outbox; a row written already claimed is on its first attempt.
 */
export type DeliveryRow = { id: number; attempts?: number; createdAt?: Date } & DeliveryInput;

/**
 * Writes a delivery in the caller's transaction; returns its id, or null if the key exists.
 * With `claimedAt` the row is written already claimed by this process, for the caller to post
 * at once (`postNow`).
 */
export async function writeDelivery(
  tx: Queryable,
  input: DeliveryInput,
  options: { claimedAt?: Date } = {},
): Promise<number | null> {
  if ((input.mode === 'edit' || input.mode === 'reply') && !input.anchor)
    throw new Error(`a delivery in ${input.mode} mode needs an anchor: ${input.key}`);
  const claimed = options.claimedAt
    ? {
        status: 'sending' as const,
        claimedAt: options.claimedAt,
        claimedBy: PROCESS_CLAIMANT,
        attempts: 1,
      }
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

/** The columns `toDeliveryRow` reads, for a claim's `returning`. */
export const deliveryRowColumns = {
  id: deliveries.id,
  key: deliveries.key,
  mode: deliveries.mode,
  target: deliveries.target,
  message: deliveries.message,
  source: deliveries.source,
  sourceChannel: deliveries.sourceChannel,
  threadOf: deliveries.threadOf,
  anchor: deliveries.anchor,
  attempts: deliveries.attempts,
  createdAt: deliveries.createdAt,
};

export function toDeliveryRow(row: {
  id: number;
  key: string;
  mode: DeliveryMode;
  target: string;
  message: ChatMessage;
  source: string | null;
  sourceChannel: string | null;
  threadOf: string | null;
  anchor: string | null;
  attempts: number;
  createdAt: Date;
}): DeliveryRow {
  return {
    id: row.id,
    attempts: row.attempts,
    createdAt: row.createdAt,
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

const jobIdOf = (id: number) => `delivery-${id}`;

export interface DeliveryQueueOptions {
  db: Database;
  connection: RedisOptions;
  prefix: string;
  logger: Logger;
  /**
   * A claim older than this is taken back whoever holds it: the backstop for a claim whose
   * process cannot be told dead (claimed before `claimed_by` existed, or stuck).
   */
  claimTimeoutMs?: number;
  /**
   * Where the liveness keys of claiming processes are read (Jobs passes its own connection).
   * Without it a claim is only taken back after the claim timeout.
   */
  liveness?: ExistsClient;
}

export const DEFAULT_CLAIM_TIMEOUT_MS = 120_000;

/**
 * A claim whose process has no liveness key is taken back only once it is this old. A claim
 * younger than this may be a post in flight of a live process whose key a wiped Redis dropped
 * moments ago (`deadClaimants` also waits out a wipe), and it is in any case one the dead-claims
 * pass would see again a few seconds later.
 */
export const DEAD_CLAIM_GRACE_MS = 10_000;

/** How often Jobs runs `reclaimDead`: a restarted process finishes a fan-out within seconds. */
export const RECLAIM_DEAD_EVERY_MS = 5_000;

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
    await this.add(
      ids.map((id) => ({ id, jobId: jobIdOf(id) })),
      delayMs,
    );
  }

  private async add(jobs: readonly { id: number; jobId: string }[], delayMs = 0): Promise<void> {
    for (let i = 0; i < jobs.length; i += 1000) {
      await this.queue.addBulk(
        jobs.slice(i, i + 1000).map(({ id, jobId }) => ({
          name: 'delivery',
          data: { deliveryId: id },
          opts: { ...JOB_OPTIONS, jobId, ...(delayMs > 0 ? { delay: delayMs } : {}) },
        })),
      );
    }
  }

  /**
   * Queues deliveries whose claim was just taken back. Their first job may still sit in the
   * active list of the dead worker until BullMQ finds it stalled (`delivery-worker.ts`), and
   * adding a job whose id is taken does nothing, so each claim gets a job id of its own. The old
   * job, when it runs again, finds the row claimed or sent and does nothing.
   */
  private requeue(rows: readonly { id: number; attempts: number }[]): Promise<void> {
    return this.add(rows.map(({ id, attempts }) => ({ id, jobId: `${jobIdOf(id)}-${attempts}` })));
  }

  /**
   * Takes back at once (to pending, and queued again) the claims of processes that are gone:
   * 'sending' rows whose `claimed_by` has no liveness key in Redis and whose claim is older than
   * `DEAD_CLAIM_GRACE_MS`. Cheap when there is nothing to do (one indexed query), so Jobs runs it
   * every few seconds. Returns how many it took back.
   */
  async reclaimDead(now = new Date()): Promise<number> {
    const taken = await this.takeBackDead(now);
    await this.requeue(taken);
    return taken.length;
  }

  private async takeBackDead(now: Date): Promise<{ id: number; attempts: number }[]> {
    const { db, prefix, logger, liveness } = this.options;
    if (!liveness) return [];
    const before = new Date(now.getTime() - DEAD_CLAIM_GRACE_MS);
    const old = and(
      eq(deliveries.status, 'sending'),
      isNotNull(deliveries.claimedBy),
      lt(deliveries.claimedAt, before),
    );
    const held = await db.selectDistinct({ by: deliveries.claimedBy }).from(deliveries).where(old);
    const claimants = held.flatMap((r) => (r.by ? [r.by] : []));
    if (claimants.length === 0) return [];
    const dead = await deadClaimants(liveness, prefix, claimants);
    if (dead.length === 0) return [];
    const taken = await db
      .update(deliveries)
      .set({ status: 'pending' })
      .where(and(old, inArray(deliveries.claimedBy, dead)))
      .returning({ id: deliveries.id, attempts: deliveries.attempts });
    if (taken.length > 0)
      logger.info(
        { deliveries: taken.length, claimants: dead },
        'took back claims of dead processes',
      );
    return taken;
  }

  /**
   * Takes back the claims of dead processes (and any claim older than the claim timeout) and
   * re-adds every open delivery; returns how many are open.
   */
  async reconcile(now = new Date()): Promise<number> {
    const timeout = this.options.claimTimeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS;
    const dead = await this.takeBackDead(now);
    const expired = await this.options.db
      .update(deliveries)
      .set({ status: 'pending' })
      .where(
        and(
          eq(deliveries.status, 'sending'),
          lt(deliveries.claimedAt, new Date(now.getTime() - timeout)),
        ),
      )
      .returning({ id: deliveries.id, attempts: deliveries.attempts });
    const retaken = [...dead, ...expired];
    await this.requeue(retaken);
    const requeued = new Set(retaken.map((r) => r.id));
    const open = await this.options.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(eq(deliveries.status, 'pending'));
    await this.enqueue(open.map((r) => r.id).filter((id) => !requeued.has(id)));
    return open.length;
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
