import type { Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { ChatHub } from '../chat/hub.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { LOST, withinMs } from '../redis/deadline.js';
import { DeliveryQueue, RECLAIM_DEAD_EVERY_MS } from './deliveries.js';
import { createDeliveryWorkers } from './delivery-worker.js';
import { Liveness } from './liveness.js';
import { Pacer } from './pacer.js';
import { Scheduler } from './scheduler.js';
import { createScheduledWorker, type ItemHandler, type ScheduledWorkerOptions } from './worker.js';

export interface JobsOptions {
  db: Database;
  connection: RedisOptions;
  /** Redis key prefix: `concord` in production, one per test. */
  prefix: string;
  logger: Logger;
  chat: ChatHub;
  handlers: Readonly<Record<string, ItemHandler>>;
  clock?: () => Date;
  horizonMs?: number;
  reconcileEveryMs?: number;
  /** Counts deliveries, 429s, escalations and lateness, and reads queue depths at each scrape. */
  metrics?: Metrics;
  worker?: Partial<
    Pick<ScheduledWorkerOptions, 'concurrency' | 'lockDurationMs' | 'stalledIntervalMs' | 'onFired'>
  >;
}

// A pacer that cannot reach Redis must fail fast, so the send goes unpaced instead of waiting
// on a reconnecting client (its default retries a command 20 times). The liveness key and the
// dead-claims pass use the same connection, and fail fast for the same reason.
const PACER_COMMAND_TIMEOUT_MS = 2_000;

/**
 * A reconciler pass that has not finished by then (its adds wait in ioredis's offline queue for
 * a Redis that is gone) no longer holds up the next one; its adds still go out when Redis
 * answers, and add nothing twice (every job id is deterministic).
 */
const RECONCILE_DEADLINE_MS = 30_000;

/** `Jobs.close` by default: workers get most of it to finish their jobs, then are forced. */
export const JOBS_CLOSE_DEADLINE_MS = 5_000;

/**
 * Scheduling and delivery together: the scheduler queue and the outbox's queues (a lane per
 * platform), their workers, and one reconciler that, at start and every minute, re-adds whatever
 * Postgres says is due and missing. It also keeps this process's liveness key in Redis, and
 * every few seconds takes back the delivery claims of processes whose key is gone
 * (`DeliveryQueue.reclaimDead`).
 */
export class Jobs {
  readonly scheduler: Scheduler;
  readonly deliveries: DeliveryQueue;
  /** Paces every send under the platform limits, shared with every process on this Redis. */
  readonly pacer: Pacer;
  private readonly pacerRedis: Redis;
  private readonly liveness: Liveness;
  private readonly workers: Worker[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reclaimTimer: NodeJS.Timeout | undefined;
  private reclaiming = false;
  private started = false;
  private closed = false;
  private reconciling = false;
  private reconcileAgain = false;
  /** Whether the Redis connection was lost since it last answered. */
  private lost = false;

  constructor(private readonly options: JobsOptions) {
    this.scheduler = new Scheduler(options);
    this.pacerRedis = new Redis({
      ...options.connection,
      maxRetriesPerRequest: 1,
      commandTimeout: PACER_COMMAND_TIMEOUT_MS,
    });
    this.pacerRedis.on('error', (err) =>
      options.logger.warn({ err: err.message }, 'pacer connection error'),
    );
    // Redis answering again after an outage: the jobs of whatever was committed meanwhile (their
    // adds abandoned after `AFTER_COMMIT_DEADLINE_MS`) are put back now, not at the next minute.
    this.pacerRedis.on('close', () => {
      this.lost = true;
    });
    this.pacerRedis.on('ready', () => {
      if (!this.lost) return;
      this.lost = false;
      if (!this.started || this.closed) return;
      options.logger.info('Redis answers again; reconciling what was committed meanwhile');
      this.reconcileSoon();
    });
    this.pacer = new Pacer(this.pacerRedis, options.prefix);
    this.deliveries = new DeliveryQueue({ ...options, liveness: this.pacerRedis });
    // Live from the start, not only once the workers run: the core may claim deliveries to post
    // inline (`postNow`) as soon as it has Jobs.
    this.liveness = new Liveness(this.pacerRedis, options.prefix, options.logger);
    this.liveness.start();
    options.metrics?.countQueuesWith(async () => {
      const queues = [this.scheduler.queue, ...Object.values(this.deliveries.lanes)];
      const counts = await Promise.all(
        queues.map((q) => q.getJobCounts('waiting', 'delayed', 'active')),
      );
      return queues.flatMap((q, i) =>
        Object.entries(counts[i] ?? {}).map(([state, count]) => ({ queue: q.name, state, count })),
      );
    });
  }

  /** Starts the workers of this process. Several processes may run them on the same queues. */
  startWorkers(): void {
    const { worker, ...common } = this.options;
    this.workers.push(
      createScheduledWorker({
        ...common,
        ...worker,
        scheduler: this.scheduler,
        deliveries: this.deliveries,
        pacer: this.pacer,
      }),
      ...createDeliveryWorkers({ ...common, pacer: this.pacer }),
    );
  }

  async reconcile(): Promise<{ items: number; deliveries: number }> {
    const items = await this.scheduler.reconcile();
    const deliveries = await this.deliveries.reconcile(this.options.clock?.() ?? new Date());
    return { items, deliveries };
  }

  /**
   * Reconciles now and every `reconcileEveryMs` (a minute by default) until `close`; in between,
   * takes back the claims of dead processes every `RECLAIM_DEAD_EVERY_MS`. A first pass that
   * fails is logged, not thrown.
   */
  async start(): Promise<void> {
    // A database or Redis lost in the middle of start-up fails this pass only: the process
    // runs on, and the next pass (on the minute, or when Redis answers again) does the work.
    this.started = true;
    await this.reconcileOnce();
    this.timer = setInterval(() => this.reconcileSoon(), this.options.reconcileEveryMs ?? 60_000);
    this.timer.unref();
    this.reclaimTimer = setInterval(() => {
      // One pass at a time: a slow database must not pile them up.
      if (this.reclaiming) return;
      this.reclaiming = true;
      withinMs(
        RECONCILE_DEADLINE_MS,
        'taking back dead claims',
        this.deliveries.reclaimDead(this.options.clock?.() ?? new Date()),
      )
        .catch(this.failed('taking back dead claims failed'))
        .finally(() => {
          this.reclaiming = false;
        });
    }, RECLAIM_DEAD_EVERY_MS);
    this.reclaimTimer.unref();
  }

  /**
   * One reconciler pass now, unless one is under way; then one more right after it, so rows
   * committed while it ran are not left for the next minute.
   */
  private reconcileSoon(): void {
    void this.reconcileOnce();
  }

  private async reconcileOnce(): Promise<void> {
    if (this.closed) return;
    // With Redis gone a pass's adds would only wait in ioredis's offline queue, one more copy of
    // every pending row each minute; the pass that runs when Redis answers again does the work.
    if (LOST.has(this.pacerRedis.status)) return;
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = true;
    try {
      await withinMs(RECONCILE_DEADLINE_MS, 'reconcile', this.reconcile()).catch(
        this.failed('reconcile failed'),
      );
    } finally {
      this.reconciling = false;
      if (this.reconcileAgain) {
        this.reconcileAgain = false;
        this.reconcileSoon();
      }
    }
  }

  private failed(what: string) {
    return (err: unknown) =>
      this.options.logger.warn({ err: err instanceof Error ? err.message : String(err) }, what);
  }

  /**
   * Lets running jobs finish, then closes queues and workers (SIGTERM, SIGINT, end of the shell),
   * all within `deadlineMs`: with Redis gone BullMQ would wait for it forever, so workers still
   * busy after most of it are forced (a job they held is found stalled and run again, and the
   * delivery claims they held are taken back by the reconciler), and connections that do not
   * close in time are dropped.
   */
  async close(options: { deadlineMs?: number } = {}): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.reclaimTimer);
    const end = Date.now() + (options.deadlineMs ?? JOBS_CLOSE_DEADLINE_MS);
    const left = (share = 1) => Math.max(0, Math.floor((end - Date.now()) * share));
    const ignore = () => {};
    await withinMs(
      left(0.6),
      'workers finishing',
      Promise.all(this.workers.map((w) => w.close())),
    ).catch(() => {
      this.options.logger.warn('workers did not finish in time; left for recovery');
      for (const w of this.workers) void w.disconnect().catch(ignore);
    });
    const queues = [this.scheduler.queue, ...Object.values(this.deliveries.lanes)];
    await withinMs(left(0.7), 'closing queues', Promise.all(queues.map((q) => q.close()))).catch(
      () => {
        for (const q of queues) void q.disconnect().catch(ignore);
      },
    );
    // After the workers: until their last post is marked sent, the claims are this process's.
    await this.liveness.stop(left());
    this.pacerRedis.disconnect();
  }
}
