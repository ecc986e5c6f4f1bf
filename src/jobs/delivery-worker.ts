import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { z } from 'zod';
import { isChatFailure } from '../chat/errors.js';
import type { ChatHub } from '../chat/hub.js';
import { CHAT_PLATFORMS, type ChatPlatform } from '../chat/refs.js';
import type { Metrics } from '../metrics.js';
import { bullConnection } from './connection.js';
import { type DeliveryQueueOptions, deliveryQueueName } from './deliveries.js';
import type { Pacer } from './pacer.js';
import { sendDelivery } from './send-delivery.js';

// Slots per lane (each platform's queue has a worker of its own, so a platform's sleepers hold
// only its own slots). Jobs mostly wait: on the platform, and on their turn under its limits,
// asleep in their slot. When every slot of a lane holds a sleeper for one busy target, every
// other target of that platform waits behind them, so the slots must outnumber a busy channel's
// backlog. Measured against the fake Slack (60 posts to one channel queued ahead of 1 post to
// each of 20 others): the 20 were all posted after 43 s with 16 slots, 27 s with 32, 1.7 s with
// 64, 128 or 256. A plain fan-out (250 channels, one post each) took 1.1 s with 16 slots and
// 0.8 s with 64 or 128. Slots cost next to nothing while asleep; a backlog beyond this many for
// one channel still holds up the rest of its platform.
export const DEFAULT_DELIVERY_CONCURRENCY = 128;

/**
 * Slots per lane. Discord's: its posts wait for one global turn each, 21 ms apart, and a
 * channel's own limit is handed back to the queue (`rate_limited`) rather than slept in a slot,
 * so more slots only claim rows further ahead of their turn (500 Discord posts took 10.6 s, the
 * global pace, with 16 slots or 64). 32 hold 0.7 s of turns, room for slow answers; a process
 * that dies leaves that many claims for the dead-claims pass to wait out, not 128.
 */
export const DELIVERY_CONCURRENCY: Readonly<Record<ChatPlatform, number>> = {
  slack: DEFAULT_DELIVERY_CONCURRENCY,
  discord: 32,
  shell: DEFAULT_DELIVERY_CONCURRENCY,
};

const JobData = z.object({ deliveryId: z.number().int().positive() });

/**
 * The jobs of a worker that died are found stalled, and run again, once their lock lapses
 * (`lockDuration`) and a stalled check or two has passed (`stalledInterval`). With BullMQ's
 * defaults (30 s each) a job the dead process had fetched but not yet claimed (its row still
 * pending) sat there for up to a minute after a SIGKILL, holding up the rest of a restarted
 * fan-out (measured: 64 s for the last of 400 cards). These bring it within about 15 s, like
 * the dead-claims pass does for claimed rows. A job run again while its first run still lives
 * (an event loop blocked past the lock) finds its row claimed and does nothing.
 */
const DELIVERY_LOCK_MS = 10_000;
const DELIVERY_STALLED_CHECK_MS = 5_000;

/** A platform's 429 that came without a wait to respect: try again after this long. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/**
 * How long a delivery keeps being tried while its platform is down (`unavailable`: 5xx answers
 * and timeouts that outlasted the adapter's own retries). The job's attempts (6, backed off from
 * 1 s) are spent within about 40 s, and a platform outage of a minute then lost every message
 * that fell due in it (measured: 29 of 35 with Slack and Discord answering 503 for 60 s). While
 * the platform is down, a try is not an attempt: the job waits in the delayed set, longer as the
 * outage lasts (half the time since the job was queued, from 1 s up to a minute), and only once
 * it has been failing for this long do its attempts count again.
 */
export const OUTAGE_PATIENCE_MS = 6 * 60 * 60_000;
const OUTAGE_RETRY_MIN_MS = 1_000;
const OUTAGE_RETRY_MAX_MS = 60_000;

/** When a job whose platform is down tries again; null once its patience has run out. */
export function outageRetryMs(queuedAt: number, now = Date.now()): number | null {
  const waited = now - queuedAt;
  if (waited >= OUTAGE_PATIENCE_MS) return null;
  return Math.min(OUTAGE_RETRY_MAX_MS, Math.max(OUTAGE_RETRY_MIN_MS, Math.round(waited / 2)));
}

export interface DeliveryWorkerOptions extends DeliveryQueueOptions {
  chat: ChatHub;
  /** Paces every send under its platform's limits (`ChatPort.rates`); without it, none is. */
  pacer?: Pacer;
  /** Slots of every lane, instead of each lane's own (`DELIVERY_CONCURRENCY`). */
  concurrency?: number;
  onSent?: (id: number) => void;
  metrics?: Metrics;
}

/**
 * One worker per platform lane (`deliveryQueueName`), every platform the core knows: a delivery
 * for a platform that is not running then fails at once, with the reason, as it always has.
 */
export function createDeliveryWorkers(options: DeliveryWorkerOptions): Worker[] {
  return CHAT_PLATFORMS.map((platform) => createDeliveryWorker(platform, options));
}

/**
 * Posts a platform's deliveries through the chat port. A row is claimed (pending → sending)
 * before the post and marked sent after it, so a duplicate or replayed job finds nothing to
 * claim. A crash between a successful post and that update leaves a claim the reconciler takes
 * back (at once when the claiming process is gone, see `DeliveryQueue.reclaimDead`); the next
 * attempt then finds the earlier post (`ChatPort.findPosted`) or the platform drops the repeat by
 * its key. A post the platform answered with a 429 (`rate_limited`) is back to pending, its
 * attempt not counted, and its job waits out the platform's Retry-After in the delayed set,
 * holding no slot; it then claims the row again and takes a fresh turn under the pacer. A post
 * that failed because the platform is down (`unavailable`) waits there too, for as long as the
 * outage lasts (up to `OUTAGE_PATIENCE_MS`), instead of spending the job's attempts.
 */
export function createDeliveryWorker(
  platform: ChatPlatform,
  options: DeliveryWorkerOptions,
): Worker {
  const { db, chat, pacer, logger } = options;
  const worker = new Worker(
    deliveryQueueName(platform),
    async (job: Job, token?: string) => {
      const parsed = JobData.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`job ${job.id} carries no delivery id`);
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      let outcome: 'sent' | 'stale';
      try {
        outcome = await sendDelivery(db, chat, parsed.data.deliveryId, {
          last,
          logger,
          ...(pacer ? { pacer } : {}),
          ...(options.metrics ? { metrics: options.metrics } : {}),
        });
      } catch (err) {
        const outageMs = isChatFailure(err, 'unavailable') ? outageRetryMs(job.timestamp) : null;
        if (outageMs !== null && token) {
          // The row is back to pending with its attempt counted, so the next claim first looks
          // for the post this one may have made (a timeout that landed) before posting again.
          logger.debug(
            { deliveryId: parsed.data.deliveryId, platform, retryInMs: outageMs },
            'platform unavailable: delivery queued again for later',
          );
          await job.moveToDelayed(Date.now() + outageMs, token);
          throw new DelayedError();
        }
        if (!isChatFailure(err, 'rate_limited') || !token) throw err;
        const waitMs = err.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
        logger.debug(
          { deliveryId: parsed.data.deliveryId, platform, retryAfterMs: waitMs },
          'delivery rate limited: queued again for later',
        );
        // Not an attempt: moveToDelayed leaves attemptsMade alone, as the row's count was.
        await job.moveToDelayed(Date.now() + waitMs, token);
        throw new DelayedError();
      }
      if (outcome === 'sent') options.onSent?.(parsed.data.deliveryId);
      return outcome;
    },
    {
      connection: bullConnection(options.connection),
      prefix: options.prefix,
      concurrency: options.concurrency ?? DELIVERY_CONCURRENCY[platform],
      lockDuration: DELIVERY_LOCK_MS,
      stalledInterval: DELIVERY_STALLED_CHECK_MS,
    },
  );
  worker.on('error', (err) =>
    options.logger.warn({ err: err.message, platform }, 'delivery worker error'),
  );
  return worker;
}
