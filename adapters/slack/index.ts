import { format } from 'node:util';
import { App, type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import { ChatFailure } from '../../src/chat/errors.js';
import type { ChatInbound } from '../../src/chat/port.js';
import type { HttpServer } from '../../src/http/server.js';
import type { Logger } from '../../src/log.js';
import { callSlack, DEFAULT_RETRY_POLICY, type SlackRetryPolicy } from './calls.js';
import { SlackChat } from './chat.js';
import { registerInbound } from './inbound.js';
import { SlackReceiver } from './receiver.js';
import type { SharedMemoryOptions } from './screen.js';

export type { SlackRetryPolicy } from './calls.js';
export { SlackChat } from './chat.js';

export interface SlackAdapterOptions {
  botToken: string;
  signingSecret: string;
  /** Web API base (`SLACK_API_URL`), e.g. `http://127.0.0.1:PORT/api/`; Slack's own by default. */
  apiUrl?: string;
  /** The process's HTTP server: the adapter mounts `POST /slack/events` on it. */
  http: HttpServer;
  inbound: ChatInbound;
  logger: Logger;
  /** Added to the clock for the request timestamp window (tests move it). */
  clockSkewMs?: number;
  /** Retry budget for Web API calls (tests shorten it). */
  retry?: SlackRetryPolicy;
  /** Replays refused across every instance behind the Request URL (see `screen.ts`). */
  sharedMemory?: SharedMemoryOptions;
}

export interface SlackAdapter {
  /** The chat port for Slack (`platform: 'slack'`). */
  chat: SlackChat;
  /** The bot's own Slack user id, from auth.test. */
  botUserId: string;
  /** Stops taking Slack requests and waits for acknowledged work to finish. */
  close(): Promise<void>;
}

/**
 * Bolt and the WebClient log through pino, under `platform: slack`. Their debug output goes to
 * pino's `trace`: the WebClient logs whole request bodies there, message text included, and a
 * TLP:RED message must not reach logs at the level operators turn on to debug Concord.
 */
function boltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const line = (msgs: unknown[]) => format(...msgs);
  return {
    debug: (...msgs: unknown[]) => logger.trace(line(msgs)),
    info: (...msgs: unknown[]) => logger.info(line(msgs)),
    warn: (...msgs: unknown[]) => logger.warn(line(msgs)),
    error: (...msgs: unknown[]) => logger.error(line(msgs)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/**
 * Starts the Slack adapter: checks the token (auth.test, which also gives the bot's user id),
 * mounts the signed endpoint on `http`, and returns the chat port.
 *
 * How acknowledgement works: the Slack screen (`screen.ts`), where the HTTP socket is, verifies
 * each request and answers it at once; what it accepts then reaches Bolt's `processEvent` on this
 * thread, and the core runs after the answer has left.
 */
export async function startSlack(options: SlackAdapterOptions): Promise<SlackAdapter> {
  const { logger } = options;
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const clientOptions: WebClientOptions = {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    logger: boltLogger(logger),
    // The client's own 429 handling pauses its whole queue; SlackChat waits per call instead.
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 15_000,
  };
  const client = new WebClient(options.botToken, clientOptions);
  const auth = await callSlack('auth.test', () => client.auth.test(), retry, logger);
  if (!auth.user_id) throw new ChatFailure('rejected', 'auth.test answered without a user id');
  const botUserId = auth.user_id;

  const receiver = new SlackReceiver({
    signingSecret: options.signingSecret,
    http: options.http,
    logger,
    ...(options.clockSkewMs ? { clockSkewMs: options.clockSkewMs } : {}),
    ...(options.sharedMemory ? { shared: options.sharedMemory } : {}),
  });
  // Passing botId and botUserId spares Bolt an auth.test of its own.
  const app = new App({
    token: options.botToken,
    ...(auth.bot_id ? { botId: auth.bot_id } : {}),
    botUserId,
    receiver,
    logger: boltLogger(logger),
    clientOptions,
    convoStore: false,
  });
  registerInbound(app, { inbound: options.inbound, logger, botUserId });
  await app.start();
  logger.info({ botUserId, team: auth.team_id }, 'slack adapter started');

  return {
    chat: new SlackChat(client, botUserId, logger, retry),
    botUserId,
    close: async () => {
      await app.stop();
    },
  };
}
