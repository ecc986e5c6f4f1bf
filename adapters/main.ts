import { join } from 'node:path';
import { discordEnabled, slackEnabled } from '../src/config.js';
import { createCore } from '../src/core.js';
import { ensureContactsNag } from '../src/domain/contacts/nag-stale-contacts.js';
import { ensureInboundSweep } from '../src/domain/inbound/sweep-keys.js';
import { itemHandlers } from '../src/domain/item-handlers.js';
import { startFrontDoor, yieldToFrontDoor } from '../src/http/front-door.js';
import { mountOperationalRoutes } from '../src/http/health.js';
import { PortInUseError } from '../src/http/server.js';
import { Jobs } from '../src/jobs/jobs.js';
import { RESUME_EVERY_MS } from '../src/jobs/provision-incidents.js';
import { postNow } from '../src/jobs/send-delivery.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import { COMMAND_BURST, CommandRateGate } from '../src/redis/command-rate.js';
import { connectRedis, type RedisHandle } from '../src/redis/connect.js';
import { closeWithin } from '../src/redis/deadline.js';
import { DISCORD_GATEWAY_CLAIM, Leadership } from '../src/redis/leadership.js';
import { RedisUnavailableError } from '../src/redis/private-server.js';
import { openConfiguredStorage, readConfig, runEntryPoint, StartupError } from './boot.js';
import { directMessagesOn, type Platforms, startPlatforms } from './platforms.js';
import { ShellChat } from './shell/chat.js';
import { runShell } from './shell/run.js';
import { SHELL_OPERATOR } from './shell/session.js';

/**
 * The process: config → storage → Redis → core → HTTP → adapters. With no platform configured
 * the shell adapter runs on the terminal (or on stdin as a script) and the process ends with it.
 */
runEntryPoint(async () => {
  const config = readConfig();
  const onPlatforms = slackEnabled(config) || discordEnabled(config);
  const logger = createLogger(config.LOG_LEVEL ?? (onPlatforms ? 'info' : 'warn'));
  const storage = await openConfiguredStorage(config);
  let redis: RedisHandle;
  try {
    redis = await connectRedis(config, logger);
  } catch (err) {
    await storage.close();
    if (err instanceof RedisUnavailableError) throw new StartupError(err.message);
    throw new StartupError(
      `cannot reach Redis at REDIS_URL: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const metrics = createMetrics();
  // The shell's operator is the terminal's owner, and a script may send commands back to back:
  // only people on the chat platforms are limited.
  const rateGate =
    onPlatforms && config.CONCORD_COMMANDS_PER_MINUTE > 0
      ? new CommandRateGate(
          redis.client,
          'concord',
          { perMinute: config.CONCORD_COMMANDS_PER_MINUTE, burst: COMMAND_BURST },
          logger,
        )
      : undefined;
  let jobs: Jobs | undefined;
  const core = createCore({
    db: storage.db,
    logger,
    metrics,
    admins: onPlatforms
      ? config.CONCORD_ADMINS
      : [...config.CONCORD_ADMINS, `shell:${SHELL_OPERATOR}`],
    enqueue: async (items) => jobs?.scheduler.enqueue(items),
    dispatch: async (ids) => jobs?.deliveries.enqueue(ids),
    ...(rateGate ? { admit: (user: string) => rateGate.admit(user) } : {}),
    deliver: async (rows) => {
      if (jobs)
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
    },
  });
  jobs = new Jobs({
    db: storage.db,
    connection: redis.options,
    prefix: 'concord',
    logger,
    chat: core.chat,
    metrics,
    handlers: itemHandlers(directMessagesOn(config)),
  });

  // The HTTP server runs in a thread of its own, so Slack's acknowledgements never wait on the
  // bot's work; if that thread dies, the process stops and its supervisor restarts it.
  const http = startFrontDoor({
    logger,
    onFailure: () => {
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    },
  });
  yieldToFrontDoor(logger);
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
  // Every step bounded, 9 s in all: a process told to stop stops, whatever is down; what was in
  // flight is finished or left for the recovery every start runs.
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(resumeTimer);
      await closeWithin(
        9_000,
        [
          { name: 'http', ms: 1_000, close: () => http.close() },
          { name: 'platforms', ms: 2_000, close: () => platforms?.close() },
          { name: 'jobs', ms: 3_500, close: () => jobs.close({ deadlineMs: 3_000 }) },
          { name: 'redis', ms: 3_500, close: () => redis.close() },
          { name: 'storage', ms: 1_500, close: () => storage.close() },
        ],
        logger,
      );
    })();
    return stopping;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stop().then(() => process.exit());
      // A second signal means now.
      process.once(signal, () => process.exit(1));
    });
  }

  // The chat adapters register before the workers start, so a due reminder finds its platform.
  if (onPlatforms) {
    try {
      platforms = await startPlatforms({
        config,
        core,
        http,
        logger,
        redis: redis.options,
        // Every process sends to Discord over REST; one at a time holds the gateway session.
        ...(discordEnabled(config)
          ? { discordGateway: new Leadership(redis.client, DISCORD_GATEWAY_CLAIM, logger) }
          : {}),
      });
    } catch (err) {
      await stop();
      throw new StartupError(
        `a chat platform did not start: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  } else {
    core.chat.register(new ShellChat(process.stdout));
    redis.onRestart(({ exit }) =>
      process.stdout.write(
        `Concord's private redis-server stopped (${exit}); restarted on its data, queued jobs kept\n`,
      ),
    );
  }
  // Listening only now, with every route mounted: a request arriving during start-up finds the
  // port closed (Slack retries) rather than a 404, and /healthz answering means ready.
  let port: number;
  try {
    port = await http.listen(config.PORT);
  } catch (err) {
    await stop();
    if (err instanceof PortInUseError) throw new StartupError(err.message);
    throw err;
  }
  logger.info({ port, database: storage.kind, redis: redis.kind }, 'concord listening');
  await ensureContactsNag(storage.db, new Date());
  await ensureInboundSweep(storage.db, new Date());
  jobs.startWorkers();
  await jobs.start();
  // Incidents whose channels a crash (or a missing permission) left unfinished.
  const resume = () =>
    core.incidents
      .resumePending()
      .catch((err: unknown) =>
        logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'incident resume failed',
        ),
      );
  await resume();
  resumeTimer = setInterval(resume, RESUME_EVERY_MS);
  resumeTimer.unref();

  if (platforms) {
    logger.info({ platforms: platforms.running, port }, 'concord running on chat platforms');
    // Runs until SIGINT or SIGTERM, whose handlers stop everything and exit.
    await new Promise<never>(() => {});
  }

  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  if (interactive) {
    process.stdout.write(
      `Concord on ${storage.kind} and ${redis.kind} Redis; HTTP on port ${port} (/healthz, /metrics)\n`,
    );
  }
  await runShell({
    core,
    input: process.stdin,
    output: process.stdout,
    interactive,
    historyFile: join(config.CONCORD_DATA_DIR, 'shell_history'),
  });
  await stop();
  return 0;
});
