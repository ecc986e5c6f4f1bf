import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { withinMs } from './redis/deadline.js';

/** Job counts of some queues, for `concord_queue_depth`. */
export type DepthSource = () => Promise<{ queue: string; state: string; count: number }[]>;

/**
 * How long a scrape waits for a source's queue depths. BullMQ's connections wait for Redis
 * forever; a scrape must answer within a second whatever is down (`concord_dependency_up` says
 * what is), so a depth not read by then is left out of that scrape.
 */
export const DEPTH_DEADLINE_MS = 500;

/** Concord's Prometheus metrics, on a registry of its own so tests can make several. */
export function createMetrics() {
  const registry = new Registry();
  const depthSources: DepthSource[] = [];
  const dependencyChecks: (() => Promise<unknown>)[] = [];
  collectDefaultMetrics({ register: registry, prefix: 'concord_' });
  return {
    registry,
    commands: new Counter({
      name: 'concord_commands_total',
      help: 'Commands handled, by command and outcome (ok or an error code)',
      labelNames: ['command', 'outcome'] as const,
      registers: [registry],
    }),
    commandSeconds: new Histogram({
      name: 'concord_command_duration_seconds',
      help: 'Time from receiving a command to having its answer',
      labelNames: ['command'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'concord_deliveries_total',
      help: 'Outbox posts and edits by platform, mode and outcome (sent, retry, failed, rate_limited)',
      labelNames: ['platform', 'mode', 'outcome'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'concord_platform_rate_limited_total',
      help: 'Platform 429 answers that reached the outbox (the delivery is queued again, re-paced)',
      labelNames: ['platform'] as const,
      registers: [registry],
    }),
    escalations: new Counter({
      name: 'concord_escalations_total',
      help: 'Escalations fired (requests and early warnings moved on to the next contact)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    lateness: new Histogram({
      name: 'concord_scheduled_lateness_seconds',
      help: 'How late scheduled items (reminders, escalations, nags) fired after their due time',
      labelNames: ['kind'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'concord_queue_depth',
      help: 'Jobs in each queue by state (waiting, delayed, active), read at each scrape',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
      async collect() {
        const read = await Promise.all(
          depthSources.map((source) =>
            // Redis is out of reach: concord_dependency_up says so; no depth is better than a stale one.
            withinMs(DEPTH_DEADLINE_MS, 'queue depth', source()).catch(() => []),
          ),
        );
        this.reset();
        for (const { queue, state, count } of read.flat()) this.set({ queue, state }, count);
      },
    }),
    /** Registers where `concord_queue_depth` reads from (the Jobs of this process). */
    countQueuesWith(source: DepthSource): void {
      depthSources.push(source);
    },
    up: new Gauge({
      name: 'concord_dependency_up',
      help: '1 when the dependency answered the last health check',
      labelNames: ['dependency'] as const,
      registers: [registry],
      // Checked at each scrape, side by side with the queue depths, so the two waits (each
      // bounded) do not add up.
      async collect() {
        await Promise.all(dependencyChecks.map((check) => check().catch(() => {})));
      },
    }),
    /** Registers a health check that sets `concord_dependency_up` at each scrape. */
    checkDependenciesWith(check: () => Promise<unknown>): void {
      dependencyChecks.push(check);
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
