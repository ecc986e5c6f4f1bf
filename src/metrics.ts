import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Job counts of some queues, for `concord_queue_depth`. */
export type DepthSource = () => Promise<{ queue: string; state: string; count: number }[]>;

/** Concord's Prometheus metrics, on a registry of its own so tests can make several. */
export function createMetrics() {
  const registry = new Registry();
  const depthSources: DepthSource[] = [];
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
        this.reset();
        for (const source of depthSources) {
          try {
            for (const { queue, state, count } of await source()) {
              this.set({ queue, state }, count);
            }
          } catch {
            // Redis is out of reach: concord_dependency_up says so; no depth is better than a stale one.
          }
        }
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
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
