import { type Concord as Assembled, createConcord } from '../../adapters/concord.js';
import { loadConfig } from '../../src/config.js';
import type { Core } from '../../src/core.js';
import type { Database, Storage } from '../../src/db/client.js';
import type { Jobs } from '../../src/jobs/jobs.js';
import { createLogger } from '../../src/log.js';
import { TEST_REDIS_URL } from './env.js';
import { testPrefix } from './jobs.js';
import { openTestStorage } from './storage.js';

export interface Concord {
  storage: Storage;
  db: Database;
  core: Core;
  jobs: Jobs;
  /** Everything `createConcord` assembled. */
  assembled: Assembled;
  /** Base URL of Concord's HTTP server: `/slack/events`, `/discord/interactions`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Concord built by the composition root `adapters/main.ts` uses (`createConcord`), with the
 * front door, the platform adapters from configuration and the workers, against a test database,
 * a test Redis prefix and whichever fake platforms `env` points at. The per-person command limit
 * is off unless `env` sets CONCORD_COMMANDS_PER_MINUTE: the tests send commands back to back.
 */
export async function startConcord(env: Record<string, string>): Promise<Concord> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: TEST_REDIS_URL,
    CONCORD_COMMANDS_PER_MINUTE: '0',
    ...env,
  });
  const storage = await openTestStorage();
  let assembled: Assembled;
  try {
    assembled = await createConcord({
      config,
      logger: createLogger(process.env.CONCORD_TEST_LOG ?? 'silent'),
      storage,
      prefix: testPrefix(),
      onFrontDoorFailure: (err) => {
        throw err;
      },
    });
  } catch (err) {
    await storage.close();
    throw err;
  }
  const port = await assembled.start();
  const { jobs } = assembled;
  return {
    storage,
    db: storage.db,
    core: assembled.core,
    jobs,
    assembled,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await jobs.scheduler.queue.obliterate({ force: true }).catch(() => {});
      await jobs.deliveries.obliterate().catch(() => {});
      await assembled.stop();
      await storage.close();
    },
  };
}
