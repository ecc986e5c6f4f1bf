import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Concord's Prometheus metrics, on a registry of its own so tests can make several. */
export function createMetrics() {
  const registry = new Registry();
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
    up: new Gauge({
      name: 'concord_dependency_up',
      help: '1 when the dependency answered the last health check',
      labelNames: ['dependency'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
