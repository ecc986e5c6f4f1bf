import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { App } from '@slack/bolt';
import { type Concord, createConcord } from '../../../adapters/concord.js';
import type { DiscordAdapter } from '../../../adapters/discord/index.js';
import type { SlackAdapter } from '../../../adapters/slack/index.js';
import type { ChatInbound } from '../../../src/chat/port.js';
import { loadConfig } from '../../../src/config.js';
import type { Core } from '../../../src/core.js';
import type { Storage } from '../../../src/db/client.js';
import { startFrontDoor } from '../../../src/http/front-door.js';
import type { HttpServer } from '../../../src/http/server.js';
import type { Jobs } from '../../../src/jobs/jobs.js';
import { createLogger, type Logger } from '../../../src/log.js';
import { type FakeDiscord, startFakeDiscord } from '../../fakes/discord/index.js';
import { type FakeSlack, startFakeSlack } from '../../fakes/slack/index.js';
import { TEST_REDIS_URL } from '../../support/env.js';
import { testPrefix } from '../../support/jobs.js';
import { openFuzzStorage } from './storage.js';
import { WORLD_ADMIN } from './world.js';

/** One error-level log line, as pino wrote it. */
export interface LoggedError {
  msg?: string;
  err?: { type?: string; message?: string; stack?: string };
  [field: string]: unknown;
}

/** Counts calls in flight, so a test can wait until everything it set off has finished. */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  track<T>(work: () => Promise<T>): Promise<T> {
    this.count++;
    let started: Promise<T>;
    try {
      started = work();
    } catch (error) {
      started = Promise.reject(error);
    }
    return started.finally(() => {
      this.count--;
      if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get size(): number {
    return this.count;
  }

  /** Resolves once nothing is in flight (at once when nothing is). */
  idle(timeoutMs = 20_000): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.count} calls still in flight after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

export interface StackOptions {
  slack?: boolean;
  /** The Discord adapter, with the signed endpoint verifying with `publicKey` (64 hex digits). */
  discord?: { publicKey: string };
}

/**
 * Concord built by `createConcord`, as `adapters/main.ts` builds it, on a database and a Redis
 * prefix of its own: the core, Jobs (queues only: no workers and no reconciler run, so anything
 * the core enqueues stays in Redis where the fuzz can see it), the front door (the HTTP server in
 * a thread of its own) with `/healthz` and `/metrics`, and the Slack and Discord adapters against
 * the fakes.
 *
 * Two instruments, neither of which changes behaviour: the adapters are handed the core's
 * `inbound` through a counter of calls in flight, and Bolt's `App.processEvent` is wrapped the
 * same way, so a test can wait until every request it sent has been worked on before it looks
 * at the database.
 */
export interface Stack {
  /** `http://127.0.0.1:<port>` of the front door. */
  base: string;
  storage: Storage & { url?: string };
  core: Core;
  jobs: Jobs;
  /** The Redis key prefix of this stack's queues. */
  prefix: string;
  slack?: { fake: FakeSlack; adapter: SlackAdapter };
  discord?: { fake: FakeDiscord; adapter: DiscordAdapter };
  /** Error-level log lines since the start (or the last `errors.splice`). */
  errors: LoggedError[];
  /** Front-door thread failures: the thread died or threw. */
  frontDoorFailures: Error[];
  /**
   * Waits for every core call and Bolt event in flight. A Slack request the screen accepted
   * reaches the main thread as a message after its answer left: `slackBarrier` first.
   */
  settle(): Promise<void>;
  /**
   * Resolves once every request the Slack screen accepted before this call has been handed to
   * Bolt: a signed probe goes through the screen, and messages from the front door arrive in
   * order. The probe itself never reaches Bolt.
   */
  slackBarrier(): Promise<void>;
  close(): Promise<void>;
}

/** The probe's event id prefix; the tap that waits for it keeps it from Bolt. */
const PROBE_EVENT = 'EvFUZZPROBE';

/** A logger that keeps its error-level lines (and above) in `errors`, parsed. */
export function capturingLogger(): { logger: Logger; errors: LoggedError[] } {
  const errors: LoggedError[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          errors.push(JSON.parse(line) as LoggedError);
        } catch {
          errors.push({ msg: line });
        }
      }
      done();
    },
  });
  const logger = createLogger('error', sink as unknown as Parameters<typeof createLogger>[1]);
  return { logger, errors };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const { logger, errors } = capturingLogger();
  const storage = await openFuzzStorage();
  const prefix = testPrefix();
  const frontDoorFailures: Error[] = [];
  const frontDoor = startFrontDoor({ logger, onFailure: (err) => frontDoorFailures.push(err) });

  const inFlight = new InFlight();
  const counted = (inbound: ChatInbound): ChatInbound => ({
    command: (c) => inFlight.track(() => inbound.command(c)),
    action: (a) => inFlight.track(() => inbound.action(a)),
    message: (m) => inFlight.track(() => inbound.message(m)),
  });

  // The Slack screen's acceptances, tapped on their way to the receiver (see slackBarrier).
  const probes = new Map<string, () => void>();
  const http: HttpServer = {
    ...frontDoor,
    route: (method, path, handler) => frontDoor.route(method, path, handler),
    listen: (port, host) => frontDoor.listen(port, host),
    close: () => frontDoor.close(),
    screen: (path, spec, onAccepted) =>
      frontDoor.screen(path, spec, (accepted) => {
        const eventId = (accepted as { body?: { event_id?: unknown } }).body?.event_id;
        if (typeof eventId === 'string' && eventId.startsWith(PROBE_EVENT)) {
          probes.get(eventId)?.();
          probes.delete(eventId);
          return;
        }
        onAccepted(accepted);
      }),
  };

  const restoreBolt = options.slack ? countBoltEvents(inFlight) : () => {};
  let slackFake: FakeSlack | undefined;
  let discordFake: FakeDiscord | undefined;
  const fakes: (() => Promise<void>)[] = [];
  let assembled: Concord;
  try {
    const env: Record<string, string> = {};
    if (options.slack) {
      const fake = await startFakeSlack({ rateLimits: false });
      slackFake = fake;
      fakes.push(() => fake.close());
      Object.assign(env, fake.concordEnv());
    }
    if (options.discord) {
      const fake = await startFakeDiscord();
      discordFake = fake;
      fakes.push(() => fake.close());
      Object.assign(env, fake.concordEnv(), { DISCORD_PUBLIC_KEY: options.discord.publicKey });
    }
    // As users run it, through the one composition root; queues only (no workers), so what the
    // core enqueues stays in Redis where the fuzz can see it.
    assembled = await createConcord({
      config: loadConfig({
        REDIS_URL: TEST_REDIS_URL,
        CONCORD_ADMINS: WORLD_ADMIN,
        CONCORD_COMMANDS_PER_MINUTE: '0',
        ...env,
      }),
      logger,
      storage,
      prefix,
      http,
      inbound: counted,
      workers: false,
    });
  } catch (error) {
    for (const close of fakes) await close().catch(() => {});
    restoreBolt();
    await frontDoor.close();
    await storage.close();
    throw error;
  }
  const port = await assembled.start(0);
  const { core, jobs, adapters } = assembled;
  const slack =
    slackFake && adapters.slack ? { fake: slackFake, adapter: adapters.slack } : undefined;
  const discord =
    discordFake && adapters.discord ? { fake: discordFake, adapter: adapters.discord } : undefined;

  let probeSeq = 0;
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    storage,
    core,
    jobs,
    prefix,
    ...(slack ? { slack } : {}),
    ...(discord ? { discord } : {}),
    errors,
    frontDoorFailures,
    settle: () => inFlight.idle(),
    async slackBarrier() {
      if (!slack) return;
      const eventId = `${PROBE_EVENT}${++probeSeq}`;
      const arrived = new Promise<void>((resolve) => probes.set(eventId, resolve));
      const result = await slack.fake.sendEvent(
        `${base}/slack/events`,
        { type: 'fuzz_probe' },
        {
          eventId,
        },
      );
      if (result.status !== 200) throw new Error(`the Slack probe got ${result.status}`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        arrived,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('the Slack probe never arrived')), 10_000);
        }),
      ]).finally(() => clearTimeout(timer));
    },
    async close() {
      await jobs.scheduler.queue.obliterate({ force: true }).catch(() => {});
      await jobs.deliveries.obliterate().catch(() => {});
      // A front door whose thread died never answers `close` (the call waits on the dead thread).
      await Promise.race([assembled.stop(), sleep(5_000)]);
      for (const close of fakes) await close().catch(() => {});
      restoreBolt();
      await storage.close();
    },
  };
}

/** Wraps Bolt's `processEvent` to count events in flight; returns the undo. */
function countBoltEvents(inFlight: InFlight): () => void {
  const proto = App.prototype;
  const original = proto.processEvent;
  proto.processEvent = function (this: App, event) {
    return inFlight.track(() => original.call(this, event));
  };
  return () => {
    proto.processEvent = original;
  };
}
