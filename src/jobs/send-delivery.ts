import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError } from 'bullmq';
import { and, eq, gt, sql } from 'drizzle-orm';
import { isChatFailure } from '../chat/errors.js';
import type { ChatHub } from '../chat/hub.js';
import type { ChatPort } from '../chat/port.js';
import { type ChannelRef, type MessageRef, platformOf, type UserRef } from '../chat/refs.js';
import type { Database, Queryable } from '../db/client.js';
import { deliveries } from '../db/schema/deliveries.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { withinMs } from '../redis/deadline.js';
import {
  type DeliveryQueue,
  type DeliveryRow,
  deliveryRowColumns,
  toDeliveryRow,
} from './deliveries.js';
import { PROCESS_CLAIMANT } from './liveness.js';
import type { Pacer } from './pacer.js';

/** How long a failed inline post waits for its job to be queued (see `postNow`). */
const INLINE_REQUEUE_DEADLINE_MS = 500;

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
 * overwrite it (`deliveries_anchor_idx` covers the lookup). Two edits of one anchor sending at
 * the very same moment can still land out of order.
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

/** How one send is made: whether it is the last attempt, and what paces it. */
export interface SendOptions {
  last: boolean;
  pacer?: Pacer;
  /**
   * The longest wait for a turn under the pacer worth spending here; a longer one takes no turn
   * and fails with `HandedBack`, for the caller to queue the delivery for then. Unset: any wait.
   */
  longestWaitMs?: number;
  /** Where a failing pacer or lookup is reported. */
  logger?: Logger;
  /** Counts each outcome (`concord_deliveries_total`, `concord_platform_rate_limited_total`). */
  metrics?: Metrics;
}

/**
 * Claims one delivery (pending → sending, in this process's name), posts it through the chat
 * port and marks it sent. 'stale' when there was nothing to claim: sent already, or claimed by
 * someone else. A failure puts it back to pending (or failed, on the `last` attempt or when its
 * platform is not running) and is rethrown; see `postClaimed` for a 429.
 */
export async function sendDelivery(
  db: Database,
  chat: ChatHub,
  id: number,
  options: SendOptions,
): Promise<'sent' | 'stale'> {
  const [row] = await db
    .update(deliveries)
    .set({
      status: 'sending',
      claimedAt: new Date(),
      claimedBy: PROCESS_CLAIMANT,
      attempts: sql`${deliveries.attempts} + 1`,
    })
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
 * a few seconds (a backlog for one Slack channel, at one message a second) wastes that slot; each
 * platform has a lane of its own and the lanes' concurrency is sized so such sleepers do not hold
 * up other targets. Handing the job back to the queue instead would free the slot but lose the
 * reserved turn.
 */
/**
 * A delivery whose turn under the pacer was further off than its caller would wait: it took no
 * turn, went back to pending, and is to be queued `waitMs` from now.
 */
export class HandedBack extends Error {
  override readonly name = 'HandedBack';
  constructor(readonly waitMs: number) {
    super(`its turn is ${waitMs} ms away: queued for then`);
  }
}

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
    const turn = await options.pacer.reserveWithin(
      port.rates?.(target, kind) ?? [],
      options.longestWaitMs ?? -1,
    );
    if (!turn.reserved) throw new HandedBack(turn.waitMs);
    wait = turn.waitMs;
  } catch (err) {
    if (err instanceof HandedBack) throw err;
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

/**
 * For a delivery claimed before (`attempts` > 1): the message an earlier claim posted, when the
 * port can look it up. That claim may have posted and then died before marking the row sent, or
 * timed out on a post the platform made all the same. A lookup that fails is logged and the post
 * goes ahead: a message twice is better than none.
 */
async function postedBefore(
  port: ChatPort,
  row: DeliveryRow,
  target: ChannelRef | UserRef,
  thread: MessageRef | null,
  options: SendOptions,
): Promise<MessageRef | null> {
  if (!port.findPosted || (row.attempts ?? 1) <= 1 || !row.createdAt) return null;
  try {
    return await port.findPosted(target, row.key, {
      since: row.createdAt,
      ...(thread ? { thread } : {}),
    });
  } catch (err) {
    options.logger?.warn(
      { deliveryId: row.id, err: err instanceof Error ? err.message : String(err) },
      'could not tell whether an earlier attempt posted; posting',
    );
    return null;
  }
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
  const key = row.key;
  switch (row.mode) {
    case 'direct': {
      const earlier = await postedBefore(port, row, row.target, null, options);
      if (earlier) return earlier;
      await turn(row.target, 'post');
      return port.sendDirect(row.target as UserRef, row.message, { key });
    }
    case 'channel': {
      const target = row.target as ChannelRef;
      const thread = row.threadOf ? await counterpartOf(db, row.threadOf, target) : null;
      const earlier = await postedBefore(port, row, target, thread, options);
      if (earlier) return earlier;
      await turn(target, 'post');
      return port.post(target, row.message, thread ? { thread, key } : { key });
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
      const earlier = await postedBefore(port, row, channel, anchored, options);
      if (earlier) return earlier;
      await turn(channel, 'post');
      return port.post(channel, row.message, { thread: anchored, key });
    }
  }
}

/**
 * Posts a delivery this process has claimed and marks it sent; on failure puts it back to
 * pending (or failed, on the `last` attempt or when its platform is not running) and rethrows.
 * With a pacer, the platform call waits its turn under the port's limits first. A delivery
 * claimed before is first looked for on the platform (`postedBefore`), and every post carries
 * the delivery's key, so a platform with idempotency keys drops a repeat by itself.
 *
 * A platform's 429 (`ChatFailure` `rate_limited`) is not the delivery's failure: it goes back to
 * pending, never failed, with this claim's attempt taken back, and the caller queues it again
 * after the platform's `retryAfterMs` (the worker delays its job; `postNow` enqueues it delayed),
 * so it takes a fresh turn under the pacer instead of being retried unpaced.
 */
export async function postClaimed(
  db: Database,
  chat: ChatHub,
  row: DeliveryRow,
  options: SendOptions,
): Promise<void> {
  const count = (outcome: 'sent' | 'retry' | 'failed' | 'rate_limited' | 'handed_back') =>
    options.metrics?.deliveries.inc({ platform: platformOf(row.target), mode: row.mode, outcome });
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
    count('sent');
  } catch (err) {
    const lastError = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    const limited = isChatFailure(err, 'rate_limited');
    if (limited || err instanceof HandedBack) {
      if (limited) {
        count('rate_limited');
        options.metrics?.rateLimited.inc({ platform: platformOf(row.target) });
      } else {
        count('handed_back');
      }
      await db
        .update(deliveries)
        .set({
          status: 'pending',
          attempts: sql`greatest(${deliveries.attempts} - 1, 0)`,
          lastError,
        })
        .where(eq(deliveries.id, row.id));
      throw err;
    }
    const last = options.last || err instanceof UnrecoverableError;
    count(last ? 'failed' : 'retry');
    await db
      .update(deliveries)
      .set({ status: last ? 'failed' : 'pending', lastError })
      .where(eq(deliveries.id, row.id));
    throw err;
  }
}

/**
 * Posts deliveries this process claimed when it wrote them, without a trip through the queue, so
 * a reminder or a relayed message reaches the platform at once (paced, with a pacer). Posts to
 * one target go one after another, in order; different targets go side by side. A failed post
 * goes to the delivery queue for its retries; one the platform answered with a 429 goes there
 * delayed by the platform's Retry-After, to take a fresh turn under the pacer then.
 */
export async function postNow(
  deps: {
    db: Database;
    chat: ChatHub;
    queue: DeliveryQueue;
    logger: Logger;
    pacer?: Pacer;
    metrics?: Metrics;
    /** Hands a post whose turn is further off than this to the queue (see `SendOptions`). */
    longestWaitMs?: number;
  },
  rows: readonly DeliveryRow[],
): Promise<void> {
  const options = {
    last: false,
    logger: deps.logger,
    ...(deps.pacer ? { pacer: deps.pacer } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.longestWaitMs !== undefined ? { longestWaitMs: deps.longestWaitMs } : {}),
  };
  const byTarget = new Map<string, DeliveryRow[]>();
  for (const row of rows) byTarget.set(row.target, [...(byTarget.get(row.target) ?? []), row]);
  await Promise.all(
    [...byTarget.values()].map(async (queue) => {
      for (const row of queue) {
        await postClaimed(deps.db, deps.chat, row, options).catch(async (err: unknown) => {
          const limited = isChatFailure(err, 'rate_limited');
          const later = err instanceof HandedBack;
          deps.logger[later ? 'debug' : limited ? 'info' : 'warn'](
            { deliveryId: row.id, err: err instanceof Error ? err.message : String(err) },
            later
              ? 'inline delivery paced beyond its wait; the queue sends it at its turn'
              : limited
                ? 'inline delivery rate limited; the queue sends it later'
                : 'inline delivery failed; the queue retries it',
          );
          const delayMs = later ? err.waitMs : limited ? (err.retryAfterMs ?? 0) : 0;
          // Bounded: with Redis gone the row stays pending in Postgres, and the reconciler queues
          // it once Redis answers; the caller (a reminder's worker, a relay) must not wait for that.
          await withinMs(
            INLINE_REQUEUE_DEADLINE_MS,
            'queueing an inline delivery',
            deps.queue.enqueue([{ id: row.id, target: row.target }], delayMs),
          ).catch(() => {});
        });
      }
    }),
  );
}
