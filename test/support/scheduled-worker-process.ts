// A scheduled-items worker in a process of its own, so a test can kill it with SIGKILL while it
// is in the middle of a job. Its handler announces each item on stdout, then holds the item's
// transaction open for SLOW_MS before writing the firing.
import { openStorage } from '../../src/db/client.js';
import { DeliveryQueue } from '../../src/jobs/deliveries.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { createScheduledWorker } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/log.js';
import { recordFiring, sleep } from './jobs.js';

const env = (key: string) => {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set`);
  return value;
};

const storage = await openStorage({ databaseUrl: env('DATABASE_URL') });
const connection = { host: env('REDIS_HOST'), port: Number(env('REDIS_PORT')) };
const prefix = env('PREFIX');
const logger = createLogger('silent');
const scheduler = new Scheduler({ db: storage.db, connection, prefix, logger });
const deliveries = new DeliveryQueue({ db: storage.db, connection, prefix, logger });
createScheduledWorker({
  db: storage.db,
  connection,
  prefix,
  scheduler,
  deliveries,
  logger,
  concurrency: 4,
  lockDurationMs: 1_500,
  stalledIntervalMs: 500,
  handlers: {
    'test.record': async (ctx) => {
      process.stdout.write(`started ${ctx.item.subject}\n`);
      await sleep(Number(env('SLOW_MS')));
      return recordFiring(ctx);
    },
  },
});
process.stdout.write('ready\n');
