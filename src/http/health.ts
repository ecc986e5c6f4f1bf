import type { Metrics } from '../metrics.js';
import { withinMs } from '../redis/deadline.js';
import { type HttpServer, sendJson } from './server.js';

export interface Dependency {
  name: string;
  /** Throws when the dependency is down. */
  ping(): Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, { status: 'ok' | 'down'; ms: number; error?: string }>;
}

/**
 * How long a dependency may take to answer its ping. `/healthz` and `/metrics` answer within a
 * second whatever is down: a prober (a load balancer, Kubernetes) gives up soon after, and a
 * ping unanswered this long is a dependency in trouble.
 */
export const PING_TIMEOUT_MS = 700;

export async function checkHealth(
  dependencies: readonly Dependency[],
  metrics?: Metrics,
): Promise<HealthReport> {
  const entries = await Promise.all(
    dependencies.map(async (dep) => {
      const started = performance.now();
      try {
        await withinMs(PING_TIMEOUT_MS, dep.name, dep.ping());
        metrics?.up.set({ dependency: dep.name }, 1);
        return [
          dep.name,
          { status: 'ok' as const, ms: Math.round(performance.now() - started) },
        ] as const;
      } catch (err) {
        metrics?.up.set({ dependency: dep.name }, 0);
        const error = err instanceof Error ? err.message : String(err);
        return [
          dep.name,
          { status: 'down' as const, ms: Math.round(performance.now() - started), error },
        ] as const;
      }
    }),
  );
  const checks = Object.fromEntries(entries);
  return { status: entries.every(([, c]) => c.status === 'ok') ? 'ok' : 'degraded', checks };
}

/** `/healthz` (200 when every dependency answers, 503 otherwise) and `/metrics`. */
export function mountOperationalRoutes(
  http: HttpServer,
  dependencies: readonly Dependency[],
  metrics: Metrics,
): void {
  http.route('GET', '/healthz', async (_req, res) => {
    const report = await checkHealth(dependencies, metrics);
    sendJson(res, report.status === 'ok' ? 200 : 503, report);
  });
  metrics.checkDependenciesWith(() => checkHealth(dependencies, metrics));
  http.route('GET', '/metrics', async (_req, res) => {
    const text = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
  });
}
