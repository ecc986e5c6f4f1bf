import { startPlatforms } from '../../adapters/platforms.js';
import { loadConfig } from '../../src/config.js';
import { type Core, createCore } from '../../src/core.js';
import type { Database, Storage } from '../../src/db/client.js';
import { itemHandlers } from '../../src/domain/item-handlers.js';
import { createHttpServer } from '../../src/http/server.js';
import { Jobs } from '../../src/jobs/jobs.js';
import { postNow } from '../../src/jobs/send-delivery.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { testPrefix, testRedis } from './jobs.js';
import { openTestStorage } from './storage.js';

export interface Concord {
  storage: Storage;
  db: Database;
  core: Core;
  jobs: Jobs;
  /** Base URL of Concord's HTTP server: `/slack/events`, `/discord/interactions`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Concord wired as `adapters/main.ts` wires it (core, jobs with inline delivery, the HTTP server,
 * the platform adapters from configuration), against a test database, a test Redis prefix and
 * whichever fake platforms `env` points at.
 */
export async function startConcord(env: Record<string, string>): Promise<Concord> {
  const config = loadConfig({ PORT: '0', ...env });
  const logger = createLogger(process.env.CONCORD_TEST_LOG ?? 'silent');
  const storage = await openTestStorage();
  let jobs: Jobs | undefined;
  const core = createCore({
    db: storage.db,
    logger,
    metrics: createMetrics(),
    admins: config.CONCORD_ADMINS,
    enqueue: async (items) => jobs?.scheduler.enqueue(items),
    dispatch: async (ids) => jobs?.deliveries.enqueue(ids),
    deliver: async (rows) => {
      if (jobs)
        await postNow(
          { db: storage.db, chat: core.chat, queue: jobs.deliveries, pacer: jobs.pacer, logger },
          rows,
        );
    },
  });
  const prefix = testPrefix();
  jobs = new Jobs({
    db: storage.db,
    connection: testRedis(),
    prefix,
    logger,
    chat: core.chat,
    handlers: itemHandlers(),
  });
  const http = createHttpServer(logger);
  const port = await http.listen(0, '127.0.0.1');
  const platforms = await startPlatforms({ config, core, http, logger });
  jobs.startWorkers();
  await jobs.start();
  const started = jobs;
  return {
    storage,
    db: storage.db,
    core,
    jobs: started,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await http.close();
      await platforms.close();
      await started.scheduler.queue.obliterate({ force: true }).catch(() => {});
      await started.deliveries.obliterate().catch(() => {});
      await started.close();
      await storage.close();
    },
  };
}
