import type { Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { ChatHub } from '../chat/hub.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import { createDeliveryWorker, DeliveryQueue } from './deliveries.js';
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
  worker?: Partial<
    Pick<ScheduledWorkerOptions, 'concurrency' | 'lockDurationMs' | 'stalledIntervalMs' | 'onFired'>
  >;
}

// A pacer that cannot reach Redis must fail fast, so the send goes unpaced instead of waiting
// on a reconnecting client (its default retries a command 20 times).
const PACER_COMMAND_TIMEOUT_MS = 2_000;

/**
 * Scheduling and delivery together: the scheduler and outbox queues, their workers, and one
 * reconciler that, at start and every minute, re-adds whatever Postgres says is due and missing.
 */
export class Jobs {
  readonly scheduler: Scheduler;
  readonly deliveries: DeliveryQueue;
  /** Paces every send under the platform limits, shared with every process on this Redis. */
  readonly pacer: Pacer;
  private readonly pacerRedis: Redis;
  private readonly workers: Worker[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: JobsOptions) {
    this.scheduler = new Scheduler(options);
    this.deliveries = new DeliveryQueue(options);
    this.pacerRedis = new Redis({
      ...options.connection,
      maxRetriesPerRequest: 1,
      commandTimeout: PACER_COMMAND_TIMEOUT_MS,
    });
    this.pacerRedis.on('error', (err) =>
      options.logger.warn({ err: err.message }, 'pacer connection error'),
    );
    this.pacer = new Pacer(this.pacerRedis, options.prefix);
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
      createDeliveryWorker({ ...common, pacer: this.pacer }),
    );
  }

  async reconcile(): Promise<{ items: number; deliveries: number }> {
    const items = await this.scheduler.reconcile();
    const deliveries = await this.deliveries.reconcile(this.options.clock?.() ?? new Date());
    return { items, deliveries };
  }

  /** Reconciles now and every `reconcileEveryMs` (a minute by default) until `close`. */
  async start(): Promise<void> {
    await this.reconcile();
    this.timer = setInterval(() => {
      this.reconcile().catch((err: unknown) =>
        this.options.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'reconcile failed',
        ),
      );
    }, this.options.reconcileEveryMs ?? 60_000);
    this.timer.unref();
  }

  /** Lets running jobs finish, then closes queues and workers (SIGTERM, SIGINT, end of the shell). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([this.scheduler.close(), this.deliveries.close()]);
    this.pacerRedis.disconnect();
  }
}
