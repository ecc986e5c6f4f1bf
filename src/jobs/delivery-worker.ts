import { UnrecoverableError, Worker } from 'bullmq';
import { z } from 'zod';
import type { ChatHub } from '../chat/hub.js';
import { bullConnection } from './connection.js';
import { DELIVERY_QUEUE, type DeliveryQueueOptions } from './deliveries.js';
import type { Pacer } from './pacer.js';
import { sendDelivery } from './send-delivery.js';

// Jobs mostly wait: on the platform, and on their turn under its limits, asleep in their slot.
// When every slot holds a sleeper for one busy target, every other target waits behind them, so
// the slots must outnumber a busy channel's backlog. Measured against the fake Slack (60 posts to
// one channel queued ahead of 1 post to each of 20 others): the 20 were all posted after 43 s
// with 16 slots, 27 s with 32, 1.7 s with 64, 128 or 256. A plain fan-out (250 channels, one post
// each) took 1.1 s with 16 slots and 0.8 s with 64 or 128; 500 Discord posts took 10.6 s (the
// global pace) with 16 or 64. Slots cost next to nothing while asleep; a backlog beyond this many
// for one channel still holds up the rest.
export const DEFAULT_DELIVERY_CONCURRENCY = 128;

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

export interface DeliveryWorkerOptions extends DeliveryQueueOptions {
  chat: ChatHub;
  /** Paces every send under its platform's limits (`ChatPort.rates`); without it, none is. */
  pacer?: Pacer;
  concurrency?: number;
  onSent?: (id: number) => void;
}

/**
 * Posts deliveries through the chat port. A row is claimed (pending → sending) before the post
 * and marked sent after it, so a duplicate or replayed job finds nothing to claim. A crash
 * between a successful post and that update leaves a claim the reconciler takes back (at once
 * when the claiming process is gone, see `DeliveryQueue.reclaimDead`); the next attempt then
 * finds the earlier post (`ChatPort.findPosted`) or the platform drops the repeat by its key.
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
      lockDuration: DELIVERY_LOCK_MS,
      stalledInterval: DELIVERY_STALLED_CHECK_MS,
    },
  );
  worker.on('error', (err) => options.logger.warn({ err: err.message }, 'delivery worker error'));
  return worker;
}
