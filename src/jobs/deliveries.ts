import { Queue } from 'bullmq';
import { and, eq, inArray, isNotNull, lt } from 'drizzle-orm';
import type { RedisOptions } from 'ioredis';
import type { ChatMessage } from '../chat/message.js';
import {
  CHAT_PLATFORMS,
  type ChannelRef,
  type ChatPlatform,
  type MessageRef,
  platformOf,
  type UserRef,
} from '../chat/refs.js';
import type { Database, Queryable } from '../db/client.js';
import { type DeliveryMode, deliveries } from '../db/schema/deliveries.js';
import type { Logger } from '../log.js';
import { bullConnection } from './connection.js';
import { deadClaimants, type ExistsClient, PROCESS_CLAIMANT } from './liveness.js';
import { JOB_OPTIONS } from './scheduler.js';

/**
 * The delivery queue of one platform: `concord-deliveries-slack`, `-discord`, `-shell`. Each
 * platform has a queue and workers of its own (a lane), so deliveries waiting their turn under
 * one platform's limits never hold the worker slots another platform's deliveries need.
 */
export const deliveryQueueName = (platform: ChatPlatform) => `concord-deliveries-${platform}`;

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

/**
 * A delivery to queue: its id, or its id and target when the caller has the row at hand (the
 * target names the platform, hence the lane; a bare id costs a lookup).
 */
export type QueuedDelivery = number | { id: number; target: string };

interface LaneJob {
  id: number;
  target: string;
  jobId: string;
}

/** A claim taken back, and what `requeue` needs to queue it again. */
type RetakenRow = { id: number; attempts: number; target: string };
const retakenColumns = {
  id: deliveries.id,
  attempts: deliveries.attempts,
  target: deliveries.target,
};

/** The platform of a stored target, or null when it names none (a row no adapter can send). */
function laneOf(target: string): ChatPlatform | null {
  try {
    return platformOf(target as ChannelRef);
  } catch {
    return null;
  }
}

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

/**
 * The queue side of the outbox: enqueue after commit, and reconcile what Redis lost. A delivery
 * goes to the lane of its target's platform (`deliveryQueueName`).
 */
export class DeliveryQueue {
  /** One BullMQ queue per platform, each with workers of its own (`createDeliveryWorkers`). */
  readonly lanes: Readonly<Record<ChatPlatform, Queue>>;

  constructor(private readonly options: DeliveryQueueOptions) {
    const lane = (platform: ChatPlatform) => {
      const queue = new Queue(deliveryQueueName(platform), {
        connection: bullConnection(options.connection),
        prefix: options.prefix,
      });
      queue.on('error', (err) =>
        options.logger.warn({ err: err.message, platform }, 'delivery queue error'),
      );
      return queue;
    };
    this.lanes = Object.fromEntries(CHAT_PLATFORMS.map((p) => [p, lane(p)])) as Record<
      ChatPlatform,
      Queue
    >;
  }

  /**
   * Queues deliveries, each on its platform's lane. `delayMs` holds the jobs back: a backstop for
   * a sender that posts them now, or the wait a platform asked for after a 429.
   */
  async enqueue(queued: readonly QueuedDelivery[], delayMs = 0): Promise<void> {
    const known: { id: number; target: string }[] = [];
    const ids: number[] = [];
    for (const d of queued) {
      if (typeof d === 'number') ids.push(d);
      else known.push(d);
    }
    const found = await this.targetsOf(ids);
    await this.add(
      [...known, ...found].map(({ id, target }) => ({ id, target, jobId: jobIdOf(id) })),
      delayMs,
    );
  }

  private async targetsOf(ids: readonly number[]): Promise<{ id: number; target: string }[]> {
    const unique = [...new Set(ids)];
    const found: { id: number; target: string }[] = [];
    for (let i = 0; i < unique.length; i += 1000) {
      found.push(
        ...(await this.options.db
          .select({ id: deliveries.id, target: deliveries.target })
          .from(deliveries)
          .where(inArray(deliveries.id, unique.slice(i, i + 1000)))),
      );
    }
    return found;
  }

  private async add(jobs: readonly LaneJob[], delayMs = 0): Promise<void> {
    const byLane = new Map<ChatPlatform, LaneJob[]>();
    const unroutable: LaneJob[] = [];
    for (const job of jobs) {
      const platform = laneOf(job.target);
      if (!platform) {
        unroutable.push(job);
        continue;
      }
      const lane = byLane.get(platform);
      if (lane) lane.push(job);
      else byLane.set(platform, [job]);
    }
    await this.failUnroutable(unroutable);
    await Promise.all(
      [...byLane].map(async ([platform, lane]) => {
        for (let i = 0; i < lane.length; i += 1000) {
          await this.lanes[platform].addBulk(
            lane.slice(i, i + 1000).map(({ id, jobId }) => ({
              name: 'delivery',
              data: { deliveryId: id },
              opts: { ...JOB_OPTIONS, jobId, ...(delayMs > 0 ? { delay: delayMs } : {}) },
            })),
          );
        }
      }),
    );
  }

  /**
   * A target naming no platform has no lane and no adapter to send it: it fails, with the
   * reason, as it would have failed at its first attempt.
   */
  private async failUnroutable(jobs: readonly LaneJob[]): Promise<void> {
    if (jobs.length === 0) return;
    this.options.logger.warn(
      { deliveries: jobs.map((j) => j.id) },
      'deliveries to a target of no platform: failed',
    );
    for (const { id, target } of jobs) {
      await this.options.db
        .update(deliveries)
        .set({ status: 'failed', lastError: `not a chat reference: ${target}`.slice(0, 500) })
        .where(and(eq(deliveries.id, id), eq(deliveries.status, 'pending')));
    }
  }

  /**
   * Queues deliveries whose claim was just taken back. Their first job may still sit in the
   * active list of the dead worker until BullMQ finds it stalled (`delivery-worker.ts`), and
   * adding a job whose id is taken does nothing, so each claim gets a job id of its own. The old
   * job, when it runs again, finds the row claimed or sent and does nothing.
   */
  private requeue(rows: readonly RetakenRow[]): Promise<void> {
    return this.add(
      rows.map(({ id, attempts, target }) => ({ id, target, jobId: `${jobIdOf(id)}-${attempts}` })),
    );
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

  private async takeBackDead(now: Date): Promise<RetakenRow[]> {
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
      .returning(retakenColumns);
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
      .returning(retakenColumns);
    const retaken = [...dead, ...expired];
    await this.requeue(retaken);
    const requeued = new Set(retaken.map((r) => r.id));
    const open = await this.options.db
      .select({ id: deliveries.id, target: deliveries.target })
      .from(deliveries)
      .where(eq(deliveries.status, 'pending'));
    await this.enqueue(open.filter((r) => !requeued.has(r.id)));
    return open.length;
  }

  /** Removes every job of every lane, waiting or running (tests and benchmarks). */
  async obliterate(): Promise<void> {
    await Promise.all(Object.values(this.lanes).map((q) => q.obliterate({ force: true })));
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.lanes).map((q) => q.close()));
  }
}
