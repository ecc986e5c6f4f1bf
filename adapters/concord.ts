import type { Writable } from 'node:stream';
import type { ChatInbound } from '../src/chat/port.js';
import { type Config, discordEnabled, slackEnabled } from '../src/config.js';
import { type Core, createCore } from '../src/core.js';
import type { Storage } from '../src/db/client.js';
import { ensureContactsNag } from '../src/domain/contacts/nag-stale-contacts.js';
import { ensureInboundSweep } from '../src/domain/inbound/sweep-keys.js';
import { itemHandlers } from '../src/domain/item-handlers.js';
import { startFrontDoor, yieldToFrontDoor } from '../src/http/front-door.js';
import { mountOperationalRoutes } from '../src/http/health.js';
import { type HttpServer, PortInUseError } from '../src/http/server.js';
import type { DeliveryRow } from '../src/jobs/deliveries.js';
import type { ItemRef } from '../src/jobs/items.js';
import { Jobs, type JobsOptions } from '../src/jobs/jobs.js';
import { RESUME_EVERY_MS } from '../src/jobs/provision-incidents.js';
import { postNow } from '../src/jobs/send-delivery.js';
import { createLogger, type Logger } from '../src/log.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { COMMAND_BURST, CommandRateGate } from '../src/redis/command-rate.js';
import { connectRedis, type RedisHandle } from '../src/redis/connect.js';
import { closeWithin } from '../src/redis/deadline.js';
import { discordGatewayClaim, Leadership } from '../src/redis/leadership.js';
import { RedisUnavailableError } from '../src/redis/private-server.js';
import { openConfiguredStorage, StartupError } from './boot.js';
import { holdDataDirectory } from './data-directory.js';
import { directMessagesOn, type Platforms, startPlatforms } from './platforms.js';
import { ShellChat } from './shell/chat.js';
import { SHELL_OPERATOR } from './shell/session.js';

/** How long `stop` may take in all, whatever is down (SIGTERM must end the process in 10 s). */
export const STOP_WITHIN_MS = 9_000;

/** What a caller may supply instead of what the configuration opens (tests, benches). */
export interface ConcordOptions {
  config: Config;
  logger?: Logger;
  /** An open, migrated database; without it, the configured one (Postgres or PGlite). */
  storage?: Storage;
  /** Redis key prefix of the queues, the pacer, the screens and the claims (default `concord`). */
  prefix?: string;
  /** The HTTP server to mount on; without it, the front door (a thread of its own). */
  http?: HttpServer;
  /** The front door's thread died; without it, the process stops (its supervisor restarts it). */
  onFrontDoorFailure?: (err: Error) => void;
  /** Wraps what the platform adapters call (the fuzz counts the calls in flight). */
  inbound?: (inbound: ChatInbound) => ChatInbound;
  /** Where the shell's simulated channels print when no platform runs (default stdout). */
  shellOutput?: Writable;
  /** Scheduler and delivery tuning (tests shorten locks and intervals). */
  jobs?: Pick<JobsOptions, 'worker' | 'reconcileEveryMs' | 'horizonMs' | 'clock'>;
  /** False: queues only, no workers and no reconciler (the fuzz watches what was queued). */
  workers?: boolean;
}

/** Concord assembled: every part, and how to start and stop them in order. */
export interface Concord {
  readonly config: Config;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly redis: RedisHandle;
  readonly metrics: Metrics;
  readonly core: Core;
  readonly jobs: Jobs;
  readonly http: HttpServer;
  /** The chat platforms that run (empty: the shell). */
  readonly platforms: readonly string[];
  /** Their adapters, for tests that drive them. */
  readonly adapters: Platforms['adapters'];
  /** Listens on the configured port (or `port`), then starts the workers; resolves with the port. */
  start(port?: number): Promise<number>;
  /** Stops everything, in order; safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * The one composition root: config → storage → Redis → core → jobs → HTTP → adapters. The
 * process (`main.ts`), the test harnesses and the benches all build Concord here, so what the
 * tests run is what users run. Nothing listens or works until `start`.
 */
export async function createConcord(options: ConcordOptions): Promise<Concord> {
  const { config } = options;
  const onPlatforms = slackEnabled(config) || discordEnabled(config);
  const logger =
    options.logger ?? createLogger(config.LOG_LEVEL ?? (onPlatforms ? 'info' : 'warn'));
  const prefix = options.prefix ?? 'concord';
  // Held before anything in it is opened; see data-directory.ts.
  const hold = usesDataDirectory(config, options)
    ? await holdDataDirectory(config.CONCORD_DATA_DIR)
    : undefined;
  let storage: Storage;
  let redis: RedisHandle;
  try {
    storage = options.storage ?? (await openConfiguredStorage(config));
  } catch (err) {
    await hold?.release();
    throw err;
  }
  try {
    redis = await openRedis(config, logger);
  } catch (err) {
    if (!options.storage) await storage.close();
    await hold?.release();
    throw err;
  }
  const metrics = createMetrics();
  // The shell's operator is the terminal's owner, and a script may send commands back to back:
  // only people on the chat platforms are limited.
  const rateGate =
    onPlatforms && config.CONCORD_COMMANDS_PER_MINUTE > 0
      ? new CommandRateGate(
          redis.client,
          prefix,
          { perMinute: config.CONCORD_COMMANDS_PER_MINUTE, burst: COMMAND_BURST },
          logger,
        )
      : undefined;

  // The core and the jobs need each other: the core queues what its commands commit, the jobs
  // post through the core's chat hub. The core is built first, its callbacks reaching the jobs
  // (made right after it; nothing calls them before a command runs).
  /** Scheduled items a committed command wrote, onto the scheduler queue. */
  const enqueueItems = (items: readonly ItemRef[]) => jobs.scheduler.enqueue(items);
  /** Committed outbox rows (a fan-out's cards), onto their platforms' delivery lanes. */
  const queueDeliveries = (ids: readonly number[]) => jobs.deliveries.enqueue(ids);
  /** Outbox rows the core wrote already claimed (relays), posted at once and in order. */
  const postClaimedNow = async (rows: readonly DeliveryRow[]) => {
    await postNow(
      {
        db: storage.db,
        chat: core.chat,
        queue: jobs.deliveries,
        logger,
        pacer: jobs.pacer,
        metrics,
      },
      rows,
    );
  };
  const core = createCore({
    db: storage.db,
    logger,
    metrics,
    admins: onPlatforms
      ? config.CONCORD_ADMINS
      : [...config.CONCORD_ADMINS, `shell:${SHELL_OPERATOR}`],
    enqueue: enqueueItems,
    dispatch: queueDeliveries,
    deliver: postClaimedNow,
    ...(rateGate ? { admit: (user: string) => rateGate.admit(user) } : {}),
    ...(options.jobs?.clock ? { clock: options.jobs.clock } : {}),
  });
  const jobs = new Jobs({
    db: storage.db,
    connection: redis.options,
    prefix,
    logger,
    chat: core.chat,
    metrics,
    handlers: itemHandlers(directMessagesOn(config)),
    ...options.jobs,
  });

  // The HTTP server runs in a thread of its own, so Slack's acknowledgements never wait on the
  // bot's work; if that thread dies, the process stops and its supervisor restarts it.
  const http =
    options.http ??
    startFrontDoor({
      logger,
      onFailure:
        options.onFrontDoorFailure ??
        (() => {
          process.exitCode = 1;
          process.kill(process.pid, 'SIGTERM');
        }),
    });
  if (!options.http) yieldToFrontDoor(logger);
  mountOperationalRoutes(
    http,
    [
      { name: 'database', ping: storage.ping },
      { name: 'redis', ping: redis.ping },
    ],
    metrics,
  );

  let platforms: Platforms | undefined;
  let resumeTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  // Every step bounded, and the bounds add up to `STOP_WITHIN_MS`: a process told to stop stops,
  // whatever is down, and each step gets its own time (none is starved by a slow one before it).
  // What was in flight is finished or left for the recovery every start runs. The database closes
  // before Redis: an embedded PGlite must be closed, not abandoned, and Redis holds nothing that
  // is not also in Postgres.
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(resumeTimer);
      await closeWithin(
        STOP_WITHIN_MS,
        [
          { name: 'http', ms: 800, close: () => http.close() },
          { name: 'platforms', ms: 1_500, close: () => platforms?.close() },
          { name: 'jobs', ms: 3_000, close: () => jobs.close({ deadlineMs: 2_500 }) },
          {
            name: 'storage',
            ms: 1_500,
            close: () => (options.storage ? undefined : storage.close()),
          },
          { name: 'redis', ms: 2_000, close: () => redis.close() },
          { name: 'data directory', ms: 200, close: () => hold?.release() },
        ],
        logger,
      );
    })();
    return stopping;
  };

  // The chat adapters register before the workers start, so a due reminder finds its platform.
  if (onPlatforms) {
    try {
      platforms = await startPlatforms({
        config,
        core,
        http,
        logger,
        prefix,
        redis: redis.options,
        ...(options.inbound ? { inbound: options.inbound(core.inbound) } : {}),
        // Every process sends to Discord over REST; one at a time holds the gateway session.
        ...(discordEnabled(config)
          ? { discordGateway: new Leadership(redis.client, discordGatewayClaim(prefix), logger) }
          : {}),
      });
    } catch (err) {
      await stop();
      throw new StartupError(
        `a chat platform did not start: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  } else {
    const shell = new ShellChat(options.shellOutput ?? process.stdout);
    core.chat.register(shell);
    redis.onRestart(({ exit }) =>
      shell.notice(
        `Concord's private redis-server stopped (${exit}); restarted on its data, queued jobs kept`,
      ),
    );
  }

  const resume = () =>
    core.incidents
      .resumePending()
      .catch((err: unknown) =>
        logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'incident resume failed',
        ),
      );

  return {
    config,
    logger,
    storage,
    redis,
    metrics,
    core,
    jobs,
    http,
    platforms: platforms?.running ?? [],
    adapters: platforms?.adapters ?? {},
    async start(port = config.PORT) {
      // Listening only now, with every route mounted: a request arriving during start-up finds
      // the port closed (Slack retries) rather than a 404, and /healthz answering means ready.
      let listening: number;
      try {
        listening = await http.listen(port, config.HOST ?? (onPlatforms ? '0.0.0.0' : '127.0.0.1'));
      } catch (err) {
        await stop();
        if (err instanceof PortInUseError) throw new StartupError(err.message);
        throw err;
      }
      logger.info(
        { port: listening, database: storage.kind, redis: redis.kind },
        'concord listening',
      );
      await ensureContactsNag(storage.db, new Date());
      await ensureInboundSweep(storage.db, new Date());
      if (options.workers !== false) {
        jobs.startWorkers();
        await jobs.start();
      }
      // Incidents whose channels a crash (or a missing permission) left unfinished.
      await resume();
      resumeTimer = setInterval(resume, RESUME_EVERY_MS);
      resumeTimer.unref();
      return listening;
    },
    stop,
  };
}

/** The embedded database or the private redis-server live in the data directory. */
export const usesDataDirectory = (config: Config, options: { storage?: Storage } = {}) =>
  (!options.storage && !config.DATABASE_URL) || !config.REDIS_URL;

async function openRedis(config: Config, logger: Logger): Promise<RedisHandle> {
  try {
    return await connectRedis(config, logger);
  } catch (err) {
    if (err instanceof RedisUnavailableError) throw new StartupError(err.message);
    throw new StartupError(
      `cannot reach Redis at REDIS_URL: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
